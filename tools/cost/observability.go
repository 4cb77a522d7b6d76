package main

import (
	"strings"

	"github.com/bp/infra/internal/cfn"
)

// estimateAlarm counts alarm-metrics: a metric-math alarm is billed per
// metric in its expression, a plain alarm as one, an anomaly detection alarm
// as three; an alarm on a period under 60 s is high-resolution.
func estimateAlarm(e *stackEstimate, id string, res cfn.Resource) {
	props := res.Properties
	metrics, anomaly := 1.0, false
	period, _ := e.r.Number(props["Period"])
	if list, ok := props["Metrics"].([]any); ok {
		n := 0.0
		for _, m := range list {
			q, _ := m.(map[string]any)
			if stat, ok := q["MetricStat"].(map[string]any); ok {
				n++
				metric, _ := stat["Metric"].(map[string]any)
				e.noteCustomNamespace(metric["Namespace"])
				if p, err := e.r.Number(stat["Period"]); err == nil && (period == 0 || p < period) {
					period = p
				}
			}
			if expr, err := e.r.String(q["Expression"]); err == nil && strings.Contains(expr, "ANOMALY_DETECTION_BAND") {
				anomaly = true
			}
		}
		metrics = max(n, 1)
	} else {
		e.noteCustomNamespace(props["Namespace"])
	}
	if anomaly {
		metrics = e.p.CloudWatch.AnomalyDetectionMetrics
	}
	if period > 0 && period < 60 {
		e.count("alarms-high-resolution", res.Type, "alarm-metric-months", e.p.CloudWatch.HighResAlarmMetricMonth, metrics, "CloudWatch high-resolution alarms (period under 60 s)")
		return
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

func estimateCompositeAlarm(e *stackEstimate, _ string, res cfn.Resource) {
	e.count("composite-alarms", res.Type, "alarm-months", e.p.CloudWatch.CompositeAlarmMonth, 1, "CloudWatch composite alarms")
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

func estimateKMSKey(e *stackEstimate, _ string, _ cfn.Resource) {
	e.count("kms-keys", "AWS::KMS::Key", "key-months", e.p.KMSKeyMonth, 1, "KMS customer-managed keys")
	e.usagePrice("KMS requests", "10,000 requests", e.p.KMSPer10kRequests)
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
