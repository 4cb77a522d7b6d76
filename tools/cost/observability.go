package main

import (
	"strings"

	"github.com/bp/infra/tools/internal/cfn"
)

// estimateAlarm counts alarm-metrics: a metric-math alarm is billed per
// metric in its expression, a plain alarm as one.
func estimateAlarm(e *stackEstimate, id string, res cfn.Resource) {
	metrics := 1.0
	if list, ok := res.Properties["Metrics"].([]any); ok {
		n := 0.0
		for _, m := range list {
			q, _ := m.(map[string]any)
			if stat, ok := q["MetricStat"].(map[string]any); ok {
				n++
				metric, _ := stat["Metric"].(map[string]any)
				e.noteCustomNamespace(metric["Namespace"])
			}
		}
		metrics = max(n, 1)
	} else {
		e.noteCustomNamespace(res.Properties["Namespace"])
	}
	e.count("alarms", res.Type, "alarm-metric-months", e.p.CloudWatch.AlarmMetricMonth, metrics, "CloudWatch alarms (metric-math alarms count each metric)")
}

// noteCustomNamespace lists the custom-metric price when alarms watch
// metrics that the application publishes itself.
func (e *stackEstimate) noteCustomNamespace(ns any) {
	s, err := e.r.String(ns)
	if err == nil && s != "" && !strings.HasPrefix(s, "AWS/") {
		e.usagePrice("CloudWatch custom metrics", "metric-month", e.p.CloudWatch.CustomMetricMonth)
	}
}

func estimateCompositeAlarm(e *stackEstimate, id string, res cfn.Resource) {
	e.unpriced("composite-alarm/"+id, "observability", id, res.Type, "CloudWatch composite alarm", "composite alarms are not in the price file")
}

func estimateDashboard(e *stackEstimate, id string, res cfn.Resource) {
	e.count("dashboards", res.Type, "dashboard-months", e.p.CloudWatch.DashboardMonth, 1, "CloudWatch dashboards (first 3 per account free, not applied)")
}

// estimateSecret counts a secret and each of its replicas (each is billed).
func estimateSecret(e *stackEstimate, id string, res cfn.Resource) {
	n := 1.0
	if replicas, ok := res.Properties["ReplicaRegions"].([]any); ok {
		n += float64(len(replicas))
	}
	e.count("secrets", res.Type, "secret-months", e.p.SecretsManager.SecretMonth, n, "Secrets Manager secrets")
	e.usagePrice("Secrets Manager API calls", "10,000 calls", e.p.SecretsManager.Per10kAPICalls)
}

func estimateKMSKey(e *stackEstimate, id string, res cfn.Resource) {
	e.count("kms-keys", "AWS::KMS::Key", "key-months", e.p.KMSKeyMonth, 1, "KMS customer-managed keys")
}

// estimateLogGroup lists the log prices and flags groups that keep logs
// forever, a cost that grows every month.
func estimateLogGroup(e *stackEstimate, id string, res cfn.Resource) {
	e.usagePrice("CloudWatch Logs ingested", "GB", e.p.CloudWatch.LogsIngestedGB)
	e.usagePrice("CloudWatch Logs stored", "GB-month", e.p.CloudWatch.LogsStoredGBMonth)
	if _, ok := res.Properties["RetentionInDays"]; !ok {
		e.note(id, "log group %s never expires: stored logs grow every month", e.displayName(id, res, "LogGroupName"))
	}
}
