// Package alarms builds the stage's CloudWatch alarms one way: a stage-scoped
// name, a one-line runbook in the description, an explicit missing-data rule
// and the alerts topic as both ALARM and OK action, so no alarm can be created
// that nobody hears.
package alarms

import (
	"fmt"
	"strings"
	"sync"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// MaxMetricsPerAlarm is CloudWatch's limit of metrics in one metric-math alarm.
const MaxMetricsPerAlarm = 10

// Spec is one alarm. Every field but DatapointsToAlarm is required.
type Spec struct {
	Name       string // physical, stage-scoped name (naming.Alarm)
	Summary    string // what the alarm means, e.g. "ALB 5xx >= 50 in 5 min"
	Runbook    string // the first thing on-call does
	Metric     awscloudwatch.IMetric
	Threshold  float64
	Comparison awscloudwatch.ComparisonOperator
	Periods    int // evaluation periods
	// DatapointsToAlarm of Periods must breach; 0 means all of them.
	DatapointsToAlarm int
	Missing           awscloudwatch.TreatMissingData
}

// Notifier creates alarms that notify one topic.
type Notifier struct {
	Topic  awssns.ITopic
	action awscloudwatch.IAlarmAction // one SnsAction (it only names the topic) for all the alarms
}

// New creates the alarm of spec below scope under construct id.
func (n *Notifier) New(scope constructs.Construct, id string, s Spec) awscloudwatch.Alarm {
	for field, missing := range map[string]bool{
		"Name": s.Name == "", "Summary": s.Summary == "", "Runbook": s.Runbook == "", "Metric": s.Metric == nil,
		"Comparison": s.Comparison == "", "Missing": s.Missing == "", "Periods": s.Periods < 1,
	} {
		if missing {
			panic("alarms: " + id + ": Spec." + field + " is required")
		}
	}
	dp := s.DatapointsToAlarm
	if dp == 0 {
		dp = s.Periods
	}
	alarm := awscloudwatch.NewAlarm(scope, jsii.String(id), &awscloudwatch.AlarmProps{
		AlarmName:          jsii.String(s.Name),
		AlarmDescription:   jsii.String(Description(s.Summary, s.Runbook)),
		Metric:             s.Metric,
		Threshold:          jsii.Number(s.Threshold),
		ComparisonOperator: s.Comparison,
		EvaluationPeriods:  jsii.Number(float64(s.Periods)),
		DatapointsToAlarm:  jsii.Number(float64(dp)),
		TreatMissingData:   s.Missing,
	})
	if n.action == nil {
		n.action = awscloudwatchactions.NewSnsAction(n.Topic)
	}
	alarm.AddAlarmAction(n.action)
	alarm.AddOkAction(n.action)
	return alarm
}

// Description is the one-line alarm description: summary, then runbook.
func Description(summary, runbook string) string {
	line := summary + ". Runbook: " + runbook
	return strings.Join(strings.Fields(line), " ")
}

// Metric is one CloudWatch metric with its statistic and period.
func Metric(namespace, name string, dims map[string]*string, stat string, period awscdk.Duration) awscloudwatch.Metric {
	return awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
		Namespace:     jsii.String(namespace),
		MetricName:    jsii.String(name),
		DimensionsMap: &dims,
		Statistic:     jsii.String(stat),
		Period:        period,
	})
}

// Combine folds up to MaxMetricsPerAlarm metrics into one series with fn
// ("SUM" or "MAX"); a gap in one series counts as 0, not as a gap of all.
// id prefixes the metric ids, which must be unique within a graph.
func Combine(fn, id, label string, period awscdk.Duration, ms []awscloudwatch.IMetric) awscloudwatch.IMetric {
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

// Minutes is a CloudWatch period. Durations are immutable values, so each
// one is made once per process (a jsii round trip) and shared by every metric.
// The references live as long as the process's one jsii runtime, which ends
// only with it (jsii.Close at the end of main and of each TestMain).
func Minutes(n int) awscdk.Duration {
	if d, ok := minutes.Load(n); ok {
		return d.(awscdk.Duration)
	}
	d, _ := minutes.LoadOrStore(n, awscdk.Duration_Minutes(jsii.Number(float64(n))))
	return d.(awscdk.Duration)
}

var minutes sync.Map // int -> awscdk.Duration

// GiB is the byte count alarms on data volumes compare with.
const GiB = float64(1 << 30)
