package test

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/bp/infra/config"
	"github.com/bp/infra/internal/coldstart"
)

const gib = float64(1 << 30)

// expectedAlarm is an alarm every stage must have, with its threshold.
type expectedAlarm struct {
	threshold float64
	namespace string // of at least one metric the alarm reads
}

func expectedAlarms(b *built) map[string]expectedAlarm {
	cfg, a := b.stage.Cfg, b.stage.Cfg.Alarms
	n := b.stage.Names
	out := map[string]expectedAlarm{
		n.Alarm("alb-5xx-warning"):              {float64(a.Alb5xxWarning), "AWS/ApplicationELB"},
		n.Alarm("alb-5xx-critical"):             {float64(a.Alb5xxCritical), "AWS/ApplicationELB"},
		n.Alarm("target-5xx"):                   {float64(a.Target5xx), "AWS/ApplicationELB"},
		n.Alarm("latency-p95"):                  {a.LatencyP95Seconds, "AWS/ApplicationELB"},
		n.Alarm("backend-unhealthy-hosts"):      {1, "AWS/ApplicationELB"},
		n.Alarm("frontend-unhealthy-hosts"):     {1, "AWS/ApplicationELB"},
		n.Alarm("backend-cpu"):                  {float64(a.EcsCpuPercent), "AWS/ECS"},
		n.Alarm("frontend-cpu"):                 {float64(a.EcsCpuPercent), "AWS/ECS"},
		n.Alarm("backend-memory"):               {float64(a.EcsMemoryPercent), "AWS/ECS"},
		n.Alarm("frontend-memory"):              {float64(a.EcsMemoryPercent), "AWS/ECS"},
		n.Alarm("backend-tasks-below-desired"):  {1, "ECS/ContainerInsights"},
		n.Alarm("frontend-tasks-below-desired"): {1, "ECS/ContainerInsights"},
		n.Alarm("rds-cpu"):                      {float64(a.RdsCpuPercent), "AWS/RDS"},
		n.Alarm("rds-cpu-critical"):             {95, "AWS/RDS"},
		n.Alarm("rds-free-storage"):             {float64(a.RdsFreeStorageGb) * gib, "AWS/RDS"},
		n.Alarm("rds-connections"):              {float64(a.RdsConnections), "AWS/RDS"},
		n.Alarm("cache-cpu"):                    {float64(a.CacheCpuPercent), "AWS/ElastiCache"},
		n.Alarm("cache-memory"):                 {float64(a.CacheMemoryPercent), "AWS/ElastiCache"},
		n.Alarm("cache-evictions"):              {float64(a.CacheEvictions), "AWS/ElastiCache"},
		n.Alarm("cdn-bytes"):                    {float64(a.CloudFrontGbPerDay) * gib / 24, "AWS/CloudFront"},
		n.Alarm("cdn-5xx-rate"):                 {float64(a.CloudFront5xxPercent), "AWS/CloudFront"},
	}
	for _, fn := range []string{"scale-to-zero-errors", "reaper-errors", "protection-release-errors"} {
		out[n.Alarm(fn)] = expectedAlarm{1, "AWS/Lambda"}
	}
	for i := 1; i <= cfg.Network.NatCount; i++ {
		ns := "AWS/NATGateway"
		if cfg.Network.NatKind == "instance" {
			ns = "AWS/EC2"
		}
		out[n.Alarm(fmt.Sprintf("nat-%d-bytes", i))] = expectedAlarm{float64(a.NatGbPerHour) * gib, ns}
	}
	for _, f := range cfg.Fleets {
		out[n.Alarm(f.Slug+"-queue-deep")] = expectedAlarm{float64(a.QueueDepthDeep), "ComfyUI/Workers"}
		out[n.Alarm(f.Slug+"-error-rate")] = expectedAlarm{float64(a.FleetErrorRatePercent), "ComfyUI/Workers"}
		out[n.Alarm(f.Slug+"-lease-expired")] = expectedAlarm{float64(a.LeaseExpiredCount), "ComfyUI/Workers"}
		out[n.Alarm(f.Slug+"-spot-interruptions")] = expectedAlarm{float64(a.SpotInterruptionCount), "ComfyUI/Workers"}
		out[n.Alarm(f.Slug+"-stuck")] = expectedAlarm{1, "AWS/AutoScaling"}
		out[n.Alarm(f.Slug+"-workers-missing")] = expectedAlarm{1, "ComfyUI/Workers"}
	}
	return out
}

// TestObservabilityAlarmsComplete checks issue 6's alarm list per stage:
// present, threshold from config, reading the right namespace.
func TestObservabilityAlarmsComplete(t *testing.T) {
	for _, b := range all() {
		got := stageAlarms(t, b)
		for name, want := range expectedAlarms(b) {
			r, ok := got[name]
			if !ok {
				t.Errorf("%s: alarm %s missing", b.label, name)
				continue
			}
			if th := num(r.Props["Threshold"]); math.Abs(th-want.threshold) > 1e-6*math.Max(1, want.threshold) {
				t.Errorf("%s: %s threshold = %v, want %v", b.label, name, th, want.threshold)
			}
			if !slices.ContainsFunc(metricsOf(r), func(m alarmMetric) bool { return m.Namespace == want.namespace }) {
				t.Errorf("%s: %s reads no %s metric: %+v", b.label, name, want.namespace, metricsOf(r))
			}
		}
	}
}

// TestObservabilityAlarmShape: every alarm of the stack is stage-scoped, has a
// one-line runbook, an explicit missing-data rule, at most ten metrics, and
// notifies the alerts topic on ALARM and OK.
func TestObservabilityAlarmShape(t *testing.T) {
	for _, b := range all() {
		for _, kind := range []string{"network", "observability"} {
			topic := alertsTopicIn(t, b, kind)
			for name, r := range alarmsByName(t, b.templates[kind]) {
				if !strings.HasPrefix(name, b.stage.Names.Prefix()+"-") {
					t.Errorf("%s: alarm %s is not stage-scoped", b.label, name)
				}
				desc := str(r.Props["AlarmDescription"])
				if !strings.Contains(desc, "Runbook: ") || strings.ContainsAny(desc, "\n\r") {
					t.Errorf("%s: %s description is not a one-line runbook: %q", b.label, name, desc)
				}
				if r.Props["TreatMissingData"] == nil {
					t.Errorf("%s: %s has no TreatMissingData", b.label, name)
				}
				if len(metricsOf(r)) > 10 {
					t.Errorf("%s: %s reads %d metrics; CloudWatch allows 10", b.label, name, len(metricsOf(r)))
				}
				for _, key := range []string{"AlarmActions", "OKActions"} {
					if !equalJSON(r.Props[key], []any{topic}) {
						t.Errorf("%s: %s %s = %s, want the alerts topic %s", b.label, name, key, str(r.Props[key]), str(topic))
					}
				}
			}
		}
	}
}

// TestFleetAlarmsWatchTheStagesWorkerMetrics: worker metrics are read with
// FleetSlug and Stage; counters stay quiet without data (fleets at zero).
func TestFleetAlarmsWatchTheStagesWorkerMetrics(t *testing.T) {
	for _, b := range all() {
		got := alarmsByName(t, b.templates["observability"])
		for _, f := range b.stage.Cfg.Fleets {
			dims := map[string]string{"FleetSlug": f.Slug, "Stage": b.stage.Cfg.Stage}
			for _, suffix := range []string{"queue-deep", "error-rate", "lease-expired", "spot-interruptions", "stuck"} {
				r := got[b.stage.Names.Alarm(f.Slug+"-"+suffix)]
				if r.Props == nil {
					continue // reported by TestObservabilityAlarmsComplete
				}
				for _, m := range metricsOf(r) {
					if m.Namespace == "ComfyUI/Workers" && !hasDims(m, dims) {
						t.Errorf("%s: %s reads %s with dimensions %v, want %v", b.label, r.Props["AlarmName"], m.Name, m.Dims, dims)
					}
				}
				if r.Props["TreatMissingData"] != "notBreaching" {
					t.Errorf("%s: %s TreatMissingData = %v, want notBreaching (no data at zero scale)", b.label, r.Props["AlarmName"], r.Props["TreatMissingData"])
				}
			}
			deep := got[b.stage.Names.Alarm(f.Slug+"-queue-deep")]
			if window := num(deep.Props["Period"]) * num(deep.Props["EvaluationPeriods"]); window != 30*60 {
				t.Errorf("%s: queue-deep window = %vs, want 1800s", b.label, window)
			}
		}
	}
}

// TestStuckFleetAlarm: in-service instances while QueueDepth was 0 for longer
// than the scale-to-zero window plus the margin, on this fleet's ASG.
func TestStuckFleetAlarm(t *testing.T) {
	for _, b := range all() {
		got := alarmsByName(t, b.templates["observability"])
		for _, f := range b.stage.Cfg.Fleets {
			r := got[b.stage.Names.Alarm(f.Slug+"-stuck")]
			if r.Props == nil {
				t.Errorf("%s: no stuck alarm for %s", b.label, f.Slug)
				continue
			}
			var inService, queue bool
			period := 0.0
			for _, m := range metricsOf(r) {
				period = m.Period
				inService = inService || m.Name == "GroupInServiceInstances" && hasDims(m, map[string]string{"AutoScalingGroupName": b.stage.Names.FleetAsg(f.Slug)})
				queue = queue || m.Name == "QueueDepth" && m.Namespace == "ComfyUI/Workers"
			}
			// What the expression computes is TestStuckAlarmSparesTheWarmBuffer's.
			if !inService || !queue {
				t.Errorf("%s: %s-stuck does not read the fleet ASG's in-service instances and its queue: %+v", b.label, f.Slug, metricsOf(r))
			}
			window := period * num(r.Props["EvaluationPeriods"])
			min := float64(f.ScaleToZeroMinutes+b.stage.Cfg.Alarms.StuckFleetMarginMinutes) * 60
			if window < min || num(r.Props["DatapointsToAlarm"]) != num(r.Props["EvaluationPeriods"]) {
				t.Errorf("%s: %s-stuck window %vs (all datapoints: %v), want >= %vs of consecutive breaches", b.label, f.Slug, window,
					num(r.Props["DatapointsToAlarm"]) == num(r.Props["EvaluationPeriods"]), min)
			}
		}
	}
}

// TestGpuLaunchFailuresReachTheTopic: an EventBridge rule on this stage's
// fleet ASGs' "EC2 Instance Launch Unsuccessful" events targets the topic.
func TestGpuLaunchFailuresReachTheTopic(t *testing.T) {
	for _, b := range all() {
		topic := alertsTopicImport(t, b)
		rule := b.templates["observability"].One(t, "AWS::Events::Rule")
		var asgs []any
		for _, f := range b.stage.Cfg.Fleets {
			asgs = append(asgs, b.stage.Names.FleetAsg(f.Slug))
		}
		want := map[string]any{"source": []any{"aws.autoscaling"}, "detail-type": []any{"EC2 Instance Launch Unsuccessful"},
			"detail": map[string]any{"AutoScalingGroupName": asgs}}
		if !equalJSON(rule.Props["EventPattern"], want) {
			t.Errorf("%s: launch-failure pattern = %s, want %s", b.label, str(rule.Props["EventPattern"]), str(want))
		}
		if !equalJSON(get(rule.Props, "Targets.0.Arn"), topic) || rule.Props["State"] != "ENABLED" {
			t.Errorf("%s: launch-failure rule targets %s (state %v), want the alerts topic", b.label, str(get(rule.Props, "Targets.0.Arn")), rule.Props["State"])
		}
	}
}

// TestNatAlarmPerNat: one bytes alarm per NAT, in the Network stack beside
// the NATs, on the gateway's byte metrics or the NAT instance's NetworkOut.
func TestNatAlarmPerNat(t *testing.T) {
	for _, b := range all() {
		got := alarmsByName(t, b.templates["network"])
		cfg := b.stage.Cfg.Network
		count := 0
		for name, r := range got {
			if !strings.HasPrefix(name, b.stage.Names.Prefix()+"-nat-") {
				continue
			}
			count++
			var names []string
			for _, m := range metricsOf(r) {
				names = append(names, m.Namespace+" "+m.Name)
			}
			slices.Sort(names)
			want := []string{"AWS/NATGateway BytesOutToDestination", "AWS/NATGateway BytesOutToSource"}
			if cfg.NatKind == "instance" {
				want = []string{"AWS/EC2 NetworkOut"}
			}
			if !slices.Equal(names, want) {
				t.Errorf("%s: %s reads %v, want %v", b.label, name, names, want)
			}
		}
		if count != cfg.NatCount {
			t.Errorf("%s: %d NAT alarms, want %d (natCount)", b.label, count, cfg.NatCount)
		}
	}
}

// TestLogsAlarmsCoverEveryLogGroup: the logs-incoming alarms together read
// IncomingBytes of every log group in every template of the stage, and their
// thresholds split the stage's daily threshold so no overrun goes unnoticed.
func TestLogsAlarmsCoverEveryLogGroup(t *testing.T) {
	for _, b := range all() {
		covered := map[string]bool{}
		var thresholds []float64
		for name, r := range alarmsByName(t, b.templates["observability"]) {
			if !strings.HasPrefix(name, b.stage.Names.Alarm("logs-incoming")) {
				continue
			}
			thresholds = append(thresholds, num(r.Props["Threshold"]))
			for _, m := range metricsOf(r) {
				if m.Namespace == "AWS/Logs" && m.Name == "IncomingBytes" {
					covered[str(m.Dims["LogGroupName"])] = true
				}
			}
		}
		if len(thresholds) == 0 {
			t.Errorf("%s: no logs-incoming alarm", b.label)
			continue
		}
		total := 0.0
		for _, th := range thresholds {
			total += th
		}
		if want := float64(b.stage.Cfg.Alarms.LogsGbPerDay) * gib / 24; math.Abs(total-want) > 1 {
			t.Errorf("%s: logs-incoming thresholds sum to %v bytes/h, want %v (logsGbPerDay/24)", b.label, total, want)
		}
		for _, kind := range b.kinds() {
			for _, g := range b.templates[kind].Resources("AWS::Logs::LogGroup") {
				name, ok := g.Props["LogGroupName"].(string)
				if !ok {
					t.Errorf("%s/%s: log group %s has no literal name", b.label, kind, g.LogicalID)
					continue
				}
				if !covered[name] {
					t.Errorf("%s/%s: log group %s is not read by any logs-incoming alarm", b.label, kind, name)
				}
			}
		}
	}
}

// TestCloudFrontAlarmsReadGlobalMetrics: CloudFront publishes in us-east-1
// with Region=Global, per distribution.
func TestCloudFrontAlarmsReadGlobalMetrics(t *testing.T) {
	for _, b := range all() {
		got := alarmsByName(t, b.templates["observability"])
		for _, id := range []string{"cdn-bytes", "cdn-5xx-rate"} {
			for _, m := range metricsOf(got[b.stage.Names.Alarm(id)]) {
				if m.Namespace != "AWS/CloudFront" || m.Dims["Region"] != "Global" || m.Dims["DistributionId"] == nil {
					t.Errorf("%s: %s reads %+v, want AWS/CloudFront with Region=Global and DistributionId", b.label, id, m)
				}
			}
		}
	}
}

// TestDashboard: one dashboard named <app>-<stage> with a row per component
// and per fleet.
func TestDashboard(t *testing.T) {
	for _, b := range all() {
		d := b.templates["observability"].One(t, "AWS::CloudWatch::Dashboard")
		if d.Props["DashboardName"] != b.stage.Names.Dashboard() {
			t.Errorf("%s: dashboard name %v, want %s", b.label, d.Props["DashboardName"], b.stage.Names.Dashboard())
		}
		body := flatten(d.Props["DashboardBody"])
		want := []string{"ALB 5xx", "ECS CPU", "ECS running vs desired", "RDS CPU", "cache memory", "NAT bytes", "CloudWatch Logs bytes", "media CDN", "alarms"}
		for _, f := range b.stage.Cfg.Fleets {
			for _, w := range []string{"queue depth", "backlog per instance", "workers vs instances", "errors", "Spot interruptions"} {
				want = append(want, "fleet "+f.Slug+": "+w)
			}
		}
		for _, w := range want {
			if !strings.Contains(body, w) {
				t.Errorf("%s: dashboard has no %q widget", b.label, w)
			}
		}
	}
}

// TestBudget: the monthly cost budget of the stage, notifying the topic and
// the email at actual 80%/100% and forecast 100%. In an account of its own it
// has no filter: a user-defined cost-allocation tag is Inactive until someone
// activates it (CostAllocationTag.Status "Active | Inactive", AWS Billing and
// Cost Management API Reference), and a new tag key can take up to 24 hours
// to appear for activation, so a tag filter would leave the budget blind
// after a first deploy. Only a stage that shares its account (the switched-on
// variant shares production's) filters on its Stage tag.
func TestBudget(t *testing.T) {
	sawShared := false
	for _, b := range all() {
		cfg := b.stage.Cfg
		r := b.templates["observability"].One(t, "AWS::Budgets::Budget")
		budget := r.Props["Budget"]
		var filters any
		if len(cfg.SharesAccountWith) > 0 {
			sawShared = true
			filters = map[string]any{"TagKeyValue": []any{"user:Stage$" + cfg.Stage}}
		}
		want := map[string]any{
			"BudgetName": b.stage.Names.Budget(), "BudgetType": "COST", "TimeUnit": "MONTHLY",
			"BudgetLimit": map[string]any{"Amount": float64(cfg.MonthlyBudgetUsd), "Unit": "USD"},
			"CostFilters": filters,
		}
		for k, v := range want {
			if !equalJSON(get(budget, k), v) {
				t.Errorf("%s: Budget.%s = %s, want %s", b.label, k, str(get(budget, k)), str(v))
			}
		}
		subs := []any{map[string]any{"Address": alertsTopicImport(t, b), "SubscriptionType": "SNS"}}
		if cfg.AlertEmail != "" {
			subs = append(subs, map[string]any{"Address": cfg.AlertEmail, "SubscriptionType": "EMAIL"})
		}
		var got []string
		list, _ := r.Props["NotificationsWithSubscribers"].([]any)
		for _, n := range list {
			got = append(got, fmt.Sprintf("%v %v %v %v", get(n, "Notification.NotificationType"), get(n, "Notification.ComparisonOperator"),
				get(n, "Notification.Threshold"), get(n, "Notification.ThresholdType")))
			if !equalJSON(get(n, "Subscribers"), subs) {
				t.Errorf("%s: budget subscribers %s, want %s", b.label, str(get(n, "Subscribers")), str(subs))
			}
		}
		wantN := []string{"ACTUAL GREATER_THAN 80 PERCENTAGE", "ACTUAL GREATER_THAN 100 PERCENTAGE", "FORECASTED GREATER_THAN 100 PERCENTAGE"}
		if !slices.Equal(got, wantN) {
			t.Errorf("%s: budget notifications %v, want %v", b.label, got, wantN)
		}
		if cfg.IsProduction() && cfg.AlertEmail == "" {
			t.Errorf("%s: production budget without an email subscriber", b.label)
		}
	}
	if !sawShared {
		t.Error("no build shares an account: the tag-filtered budget is untested")
	}
}

// TestEveryAlarmHasAnAction covers every stack, GpuFleet's scaling alarms
// included (those may act on a scaling policy or the scale-to-zero topic).
func TestEveryAlarmHasAnAction(t *testing.T) {
	for _, b := range all() {
		for _, kind := range b.kinds() {
			for _, typ := range []string{"AWS::CloudWatch::Alarm", "AWS::CloudWatch::CompositeAlarm"} {
				for _, r := range b.templates[kind].Resources(typ) {
					actions, _ := r.Props["AlarmActions"].([]any)
					if len(actions) == 0 || r.Props["ActionsEnabled"] == false {
						t.Errorf("%s/%s: alarm %s (%s) has no enabled ALARM action", b.label, kind, r.LogicalID, str(r.Props["AlarmName"]))
					}
				}
			}
		}
	}
}

// TestAlertsTopic: <app>-<stage>-ops-alerts, KMS-encrypted, SSL enforced,
// publishable by CloudWatch, EventBridge and Budgets of this account only,
// mailing alertEmail when set.
func TestAlertsTopic(t *testing.T) {
	for _, b := range all() {
		net := b.templates["network"]
		topics := net.Where("AWS::SNS::Topic", "TopicName", b.stage.Names.AlertsTopic())
		if len(topics) != 1 {
			t.Fatalf("%s: want one topic %s, found %d", b.label, b.stage.Names.AlertsTopic(), len(topics))
		}
		topic := topics[0]
		if topic.Props["KmsMasterKeyId"] == nil {
			t.Errorf("%s: alerts topic is not KMS-encrypted", b.label)
		}
		ref := map[string]any{"Ref": topic.LogicalID}
		var policy string
		for _, p := range net.Resources("AWS::SNS::TopicPolicy") {
			if slices.ContainsFunc(p.Props["Topics"].([]any), func(v any) bool { return equalJSON(v, ref) }) {
				policy += str(p.Props["PolicyDocument"])
			}
		}
		for _, want := range []string{`"aws:SecureTransport":"false"`, `"Effect":"Deny"`} {
			if !strings.Contains(policy, want) {
				t.Errorf("%s: alerts topic policy lacks %s (SSL enforcement)", b.label, want)
			}
		}
		for _, svc := range []string{"cloudwatch.amazonaws.com", "events.amazonaws.com", "budgets.amazonaws.com"} {
			if !strings.Contains(policy, `"Service":"`+svc+`"`) {
				t.Errorf("%s: %s may not publish to the alerts topic", b.label, svc)
			}
		}
		if !strings.Contains(policy, "aws:SourceAccount") {
			t.Errorf("%s: service publish grants are not limited to this account", b.label)
		}
		subs := net.Where("AWS::SNS::Subscription", "TopicArn", ref)
		switch email := b.stage.Cfg.AlertEmail; {
		case email == "" && len(subs) != 0:
			t.Errorf("%s: subscriptions without an alert email", b.label)
		case email != "" && (len(subs) != 1 || subs[0].Props["Protocol"] != "email" || subs[0].Props["Endpoint"] != email):
			t.Errorf("%s: want one email subscription to %s, got %d", b.label, email, len(subs))
		}
	}
}

// TestProductionNeedsAlertEmail: production synthesis fails without an alert
// email (alarms and budgets would mail nobody); staging may go without.
func TestProductionNeedsAlertEmail(t *testing.T) {
	for _, stage := range config.StageNames() {
		ctx, err := cdkJSONContext()
		if err != nil {
			t.Fatal(err)
		}
		settings := ctx[config.StagesKey].(map[string]any)[stage].(map[string]any)
		delete(settings, "alertEmail")
		ctx[config.StageKey] = stage
		_, err = config.Load(ctx)
		prod := stage == "production"
		if prod && (err == nil || !strings.Contains(err.Error(), "alertEmail")) {
			t.Errorf("production without alertEmail: err = %v, want an alertEmail error", err)
		}
		if !prod && err != nil {
			t.Errorf("%s without alertEmail: %v", stage, err)
		}
	}
}

// TestObservabilityDeploysLast: the stack depends on every other stack of its
// stage, and none depends on it, so no dependency cycle can form.
func TestObservabilityDeploysLast(t *testing.T) {
	for _, b := range all() {
		obs := b.stage.Observability.Stack
		deps := map[string]bool{}
		for _, d := range *obs.Dependencies() {
			deps[*d.Node().Id()] = true
		}
		for _, st := range b.stage.Stacks() {
			kind := *st.Node().Id()
			if kind == "observability" || kind == "ci" { // ci is not part of the stage's deploy
				continue
			}
			if !deps[kind] {
				t.Errorf("%s: observability does not depend on %s", b.label, kind)
			}
			for _, d := range *st.Dependencies() {
				if *d.Node().Id() == "observability" {
					t.Errorf("%s: %s depends on observability", b.label, kind)
				}
			}
		}
	}
}

// TestAlarmInputsArePublished: the stuck-fleet alarm needs the fleet ASG's
// group metrics and the tasks-below-desired alarms need Container Insights;
// without them those alarms would never see data.
func TestAlarmInputsArePublished(t *testing.T) {
	for _, b := range all() {
		for _, f := range b.stage.Cfg.Fleets {
			asgs := b.templates["gpu-fleet"].Where("AWS::AutoScaling::AutoScalingGroup", "AutoScalingGroupName", b.stage.Names.FleetAsg(f.Slug))
			if len(asgs) != 1 {
				t.Errorf("%s: want one ASG %s, found %d", b.label, b.stage.Names.FleetAsg(f.Slug), len(asgs))
				continue
			}
			mc, _ := asgs[0].Props["MetricsCollection"].([]any)
			ok := false
			for _, c := range mc {
				metrics, listed := get(c, "Metrics").([]any)
				ok = ok || get(c, "Granularity") == "1Minute" && (!listed || slices.Contains(metrics, any("GroupInServiceInstances")))
			}
			if !ok {
				t.Errorf("%s: ASG %s does not publish GroupInServiceInstances: %s", b.label, f.Slug, str(mc))
			}
		}
		cluster := b.templates["compute"].Where("AWS::ECS::Cluster", "ClusterName", b.stage.Names.Cluster())
		if len(cluster) != 1 || !strings.Contains(str(cluster[0].Props["ClusterSettings"]), `{"Name":"containerInsights","Value":"enabled"}`) {
			t.Errorf("%s: cluster %s without Container Insights", b.label, b.stage.Names.Cluster())
		}
	}
}

// TestWorkersMissingAlarm: a fleet whose instances run while jobs wait, but
// whose workers the backend never sees (ActiveWorkers, "seen in the last 5
// min", is one of the metrics the backend publishes per fleet every minute),
// pages after the longest cold start the scale-from-zero model allows and
// not before: a healthy cold start registers within it.
func TestWorkersMissingAlarm(t *testing.T) {
	coldStart := coldstart.Total(coldstart.DefaultParams().Steps(), false) // seconds, queued -> leased
	for _, b := range all() {
		got := alarmsByName(t, b.templates["observability"])
		for _, f := range b.stage.Cfg.Fleets {
			r := got[b.stage.Names.Alarm(f.Slug+"-workers-missing")]
			if r.Props == nil {
				t.Errorf("%s: no workers-missing alarm for %s", b.label, f.Slug)
				continue
			}
			for _, m := range metricsOf(r) {
				wantDims := map[string]string{"FleetSlug": f.Slug, "Stage": b.stage.Cfg.Stage}
				if m.Namespace == "AWS/AutoScaling" {
					wantDims = map[string]string{"AutoScalingGroupName": b.stage.Names.FleetAsg(f.Slug)}
				}
				if !hasDims(m, wantDims) {
					t.Errorf("%s: %s-workers-missing reads %s %s with %v, want %v", b.label, f.Slug, m.Namespace, m.Name, m.Dims, wantDims)
				}
			}
			for _, c := range []struct {
				inService, active, queue, want float64
			}{
				{1, 0, 3, 1}, // instances, jobs, no worker: page
				{2, 1, 3, 0}, // a worker registered
				{0, 0, 3, 0}, // no instance yet: launch failures have their own rule
				{1, 0, 0, 0}, // nothing waits (the stuck alarm watches idle instances)
			} {
				v, err := alarmDatapoint(r, map[string]float64{"GroupInServiceInstances": c.inService, "ActiveWorkers": c.active, "QueueDepth": c.queue})
				if err != nil {
					t.Fatalf("%s: %v", b.label, err)
				}
				if v != c.want {
					t.Errorf("%s/%s: in service %v, active %v, queue %v: datapoint %v, want %v (%s)", b.label, f.Slug, c.inService, c.active, c.queue, v, c.want, expressionOf(r))
				}
			}
			window := metricsOf(r)[0].Period * num(r.Props["EvaluationPeriods"])
			if window <= coldStart || window < float64(f.WarmupSeconds) || num(r.Props["DatapointsToAlarm"]) != num(r.Props["EvaluationPeriods"]) {
				t.Errorf("%s/%s: window %vs of consecutive breaches, want more than the cold start (%vs) and the warm-up (%ds)", b.label, f.Slug, window, coldStart, f.WarmupSeconds)
			}
		}
	}
}
