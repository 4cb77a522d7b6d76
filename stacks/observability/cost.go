package observability

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/jsii-runtime-go"

	"github.com/bp/infra/constructs/alarms"
)

// cloudFrontMetricsRegion is the only region CloudFront publishes metrics to
// (with dimension Region=Global); an alarm can only read its own region.
const cloudFrontMetricsRegion = "us-east-1"

// costAlarms catch the review's cost hotspots early, in bytes rather than in
// dollars a month later: CloudWatch Logs ingestion and CloudFront egress (NAT
// data processing is alarmed in the Network stack beside the NATs, GPU
// leakage by the fleets' stuck alarm).
func (o *obs) costAlarms() {
	o.logsAlarms()
	o.cloudFrontAlarms()
}

// logsAlarms alarm on the stage's CloudWatch Logs ingestion. AWS/Logs has no
// stage dimension and alarms accept neither SEARCH nor more than ten metrics,
// so the stage's log groups (found in its templates, see stageLogGroups) are
// summed in chunks of ten per-log-group IncomingBytes metrics. With k chunks
// each alarms at 1/k of the stage threshold: whenever the stage total passes
// it, at least one chunk does, so no overrun goes unnoticed.
func (o *obs) logsAlarms() {
	groups := o.stageLogGroups()
	if len(groups) == 0 {
		return
	}
	hour := alarms.Minutes(60)
	chunks := chunk(groups, alarms.MaxMetricsPerAlarm)
	perHour := float64(o.a.LogsGbPerDay) * alarms.GiB / 24
	for i, c := range chunks {
		var ms []awscloudwatch.IMetric
		for _, g := range c {
			ms = append(ms, alarms.Metric("AWS/Logs", "IncomingBytes", map[string]*string{"LogGroupName": g}, "Sum", hour))
		}
		id := "logs-incoming"
		if len(chunks) > 1 {
			id = fmt.Sprintf("logs-incoming-%dof%d", i+1, len(chunks))
		}
		o.alarm(id, alarms.Spec{
			Summary: fmt.Sprintf("CloudWatch Logs ingestion of %d of the stage's %d log groups ran above %d GiB/day (/%d) for 2 h",
				len(c), len(groups), o.a.LogsGbPerDay, len(chunks)),
			Runbook: "find the loud group on the dashboard's Logs widget; lower LOG_LEVEL (config logLevel) or fix the log loop ($0.50/GB ingested)",
			Metric:  alarms.Combine("SUM", fmt.Sprintf("logs%d", i+1), "log bytes", hour, ms), Threshold: perHour / float64(len(chunks)),
			Comparison: gt, Periods: 2, Missing: notBreaching,
		})
	}
}

func (o *obs) cloudFrontAlarms() {
	cdn := o.p.Data.MediaCdn
	if o.p.Cfg.Region != cloudFrontMetricsRegion {
		return
	}
	a := o.a
	dims := map[string]*string{"DistributionId": cdn.DistributionId(), "Region": jsii.String("Global")}
	o.alarm("cdn-bytes", alarms.Spec{
		Summary: fmt.Sprintf("media CloudFront delivered above %d GiB/day for 3 h", a.CloudFrontGbPerDay),
		Runbook: "find the hot objects in the CloudFront access logs (access-logs bucket, cloudfront/ prefix); check for hotlinking or a client download loop ($0.085/GB)",
		Metric:  alarms.Metric("AWS/CloudFront", "BytesDownloaded", dims, "Sum", alarms.Minutes(60)), Threshold: float64(a.CloudFrontGbPerDay) * alarms.GiB / 24,
		Comparison: gt, Periods: 3, Missing: notBreaching,
	})
	o.alarm("cdn-5xx-rate", alarms.Spec{
		Summary: fmt.Sprintf("media CloudFront 5xx rate >= %d%% for 15 min", a.CloudFront5xxPercent),
		Runbook: "origin errors: check the media bucket policy for the distribution's origin access control and S3 health",
		Metric:  alarms.Metric("AWS/CloudFront", "5xxErrorRate", dims, "Average", alarms.Minutes(5)), Threshold: float64(a.CloudFront5xxPercent),
		Comparison: gte, Periods: 3, Missing: notBreaching,
	})
}

func chunk[T any](items []T, size int) [][]T {
	var out [][]T
	for len(items) > size {
		out = append(out, items[:size])
		items = items[size:]
	}
	return append(out, items)
}
