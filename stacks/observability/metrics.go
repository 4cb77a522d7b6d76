package observability

import (
	"fmt"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/jsii-runtime-go"
)

// Units and shorthands for the observability stack.
const (
	gib = float64(1 << 30)
	gte = awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD
	gt  = awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD
	lt  = awscloudwatch.ComparisonOperator_LESS_THAN_THRESHOLD

	notBreaching = awscloudwatch.TreatMissingData_NOT_BREACHING
	breaching    = awscloudwatch.TreatMissingData_BREACHING

	// WorkerNamespace is where the backend publishes the fleet metrics
	// (system-facts sections 1 and 4).
	WorkerNamespace = "ComfyUI/Workers"
)

func minutes(n int) awscdk.Duration { return awscdk.Duration_Minutes(jsii.Number(float64(n))) }

// metric is one CloudWatch metric with its statistic and period.
func metric(namespace, name string, dims map[string]*string, stat string, period awscdk.Duration) awscloudwatch.Metric {
	return awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
		Namespace:     jsii.String(namespace),
		MetricName:    jsii.String(name),
		DimensionsMap: &dims,
		Statistic:     jsii.String(stat),
		Period:        period,
	})
}

// combine folds up to alarms.MaxMetricsPerAlarm metrics into one series with
// fn ("SUM" or "MAX"); a gap in one series counts as 0, not as a gap of all.
// id prefixes the metric ids, which must be unique within a graph.
func combine(fn, id, label string, period awscdk.Duration, ms []awscloudwatch.IMetric) awscloudwatch.IMetric {
	if len(ms) == 1 {
		return ms[0]
	}
	using := map[string]awscloudwatch.IMetric{}
	terms := make([]string, 0, len(ms))
	for i, m := range ms {
		mid := fmt.Sprintf("%s_%d", id, i)
		using[mid] = m
		terms = append(terms, "FILL("+mid+", 0)")
	}
	expr := strings.Join(terms, " + ")
	if fn != "SUM" {
		expr = fn + "([" + strings.Join(terms, ", ") + "])"
	}
	return awscloudwatch.NewMathExpression(&awscloudwatch.MathExpressionProps{
		Expression:   jsii.String(expr),
		UsingMetrics: &using,
		Label:        jsii.String(label),
		Period:       period,
	})
}

// workerDims are the dimensions the backend publishes each fleet's metrics with.
func workerDims(slug, stage string) map[string]*string {
	return map[string]*string{"FleetSlug": jsii.String(slug), "Stage": jsii.String(stage)}
}
