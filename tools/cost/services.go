package main

import (
	"fmt"

	"github.com/bp/infra/internal/cfn"
)

// The estimators of this file price services that cost nothing at idle (or
// very little) and list the unit prices of what they bill by use.

func estimateLambda(e *stackEstimate, id string, res cfn.Resource) {
	p := e.p.Lambda
	e.usagePrice("Lambda requests", "million requests", p.PerMillionRequests)
	arch := "x86_64"
	if list, ok := res.Properties["Architectures"].([]any); ok && len(list) == 1 {
		if a, err := e.r.String(list[0]); err == nil {
			arch = a
		}
	}
	if arch == "arm64" {
		e.usagePrice("Lambda duration arm64", "GB-second", p.ARM64GBSecond)
	} else {
		e.usagePrice("Lambda duration x86_64", "GB-second", p.X86GBSecond)
	}
}

func estimateECRRepository(e *stackEstimate, _ string, _ cfn.Resource) {
	e.usagePrice("ECR image storage", "GB-month", e.p.ECRStorageGBMonth)
}

func estimateSNSTopic(e *stackEstimate, _ string, _ cfn.Resource) {
	e.usagePrice("SNS publishes beyond the first million a month", "million publishes", e.p.SNSPerMillionPublishes)
}

// estimateBudget counts each budget at the daily price; the first two of a
// payer account are free, which the report cannot know per stage.
func estimateBudget(e *stackEstimate, _ string, res cfn.Resource) {
	b := e.p.Budgets
	detail := fmt.Sprintf("AWS Budgets at $%g/day (first %g per payer account free, not applied)", b.BudgetDay, b.FreePerPayerAccount)
	e.count("budgets", res.Type, "budget-months", b.BudgetDay*e.p.DaysPerMonth(), 1, detail)
}

// estimateECSCluster notes Container Insights, whose metrics are billed as
// custom metrics and whose performance events as log ingestion.
func estimateECSCluster(e *stackEstimate, id string, res cfn.Resource) {
	settings, _ := res.Properties["ClusterSettings"].([]any)
	for _, s := range settings {
		m, _ := s.(map[string]any)
		name, _ := e.r.String(m["Name"])
		value, _ := e.r.String(m["Value"])
		if name == "containerInsights" && (value == "enabled" || value == "enhanced") {
			e.note(id, "Container Insights (%s) is billed by use: its metrics as CloudWatch custom metrics, its performance events as log ingestion; not in the fixed total", value)
			e.usagePrice("CloudWatch custom metrics", "metric-month", e.p.CloudWatch.CustomMetricMonth)
			e.usagePrice("CloudWatch Logs ingested", "GB", e.p.CloudWatch.LogsIngestedGB)
		}
	}
}

// estimateFlowLog lists the log price of a flow log delivered to CloudWatch
// Logs (vended logs start at the standard ingestion price).
func estimateFlowLog(e *stackEstimate, id string, res cfn.Resource) {
	dest := "cloud-watch-logs"
	if v, ok := res.Properties["LogDestinationType"]; ok {
		dest, _ = e.r.String(v)
	}
	if dest == "cloud-watch-logs" {
		e.usagePrice("CloudWatch Logs ingested", "GB", e.p.CloudWatch.LogsIngestedGB)
		return
	}
	e.note(id, "flow log delivered to %s: billed by use at that destination's vended-log price (not in the price file)", dest)
}

// estimateSSMParameter prices advanced parameters; standard ones are free.
func estimateSSMParameter(e *stackEstimate, id string, res cfn.Resource) {
	tier := "Standard"
	if v, ok := res.Properties["Tier"]; ok {
		tier, _ = e.r.String(v)
	}
	if tier == "Advanced" {
		e.count("ssm-advanced-parameters", res.Type, "parameter-months", e.p.SSMAdvancedParamMonth, 1, "SSM advanced parameters")
	}
}

// estimateMetricFilter counts the custom metrics a metric filter publishes.
func estimateMetricFilter(e *stackEstimate, id string, res cfn.Resource) {
	n, err := e.r.Count(res.Properties["MetricTransformations"])
	if err != nil {
		e.unpriced("metric-filter/"+id, "observability", id, res.Type, "CloudWatch metric filter", why("MetricTransformations", err))
		return
	}
	e.count("custom-metrics", res.Type, "metric-months", e.p.CloudWatch.CustomMetricMonth, float64(n), "CloudWatch custom metrics of metric filters (billed in the hours they publish)")
}

func estimateCloudFrontFunction(e *stackEstimate, _ string, _ cfn.Resource) {
	e.usagePrice("CloudFront Functions invocations", "million invocations", e.p.CloudFront.FunctionsPerMillion)
}

// estimateCloudFront lists the delivery prices; a price class wider than the
// priced one also serves from dearer edge regions.
func estimateCloudFront(e *stackEstimate, id string, res cfn.Resource) {
	cfg, _ := res.Properties["DistributionConfig"].(map[string]any)
	class := "PriceClass_All" // CloudFront's default
	if v, ok := cfg["PriceClass"]; ok {
		class, _ = e.r.String(v)
	}
	if class != e.p.CloudFront.PricedClass {
		e.note(id, "price class %s also serves viewers from edges outside North America/Europe, which bill more per GB than the listed price", class)
	}
	e.usagePrice("CloudFront data transfer out (NA/EU, first 10 TB)", "GB", e.p.CloudFront.PerGB)
	e.usagePrice("CloudFront HTTPS requests", "10,000 requests", e.p.CloudFront.Per10kHTTPSCalls)
}

// unknownType reports a resource type the tool neither prices nor knows to
// be free.
func unknownType(e *stackEstimate, id string, res cfn.Resource) {
	e.unpriced("unknown/"+id, "unknown", id, res.Type, "resource type "+res.Type,
		"not known to the cost tool: price it (an estimator in tools/cost) or list it as free with a reason (tools/cost/free.go)")
}
