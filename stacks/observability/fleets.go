package observability

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/jsii-runtime-go"

	"github.com/bp/infra/config"
	"github.com/bp/infra/constructs/alarms"
)

// watchedFleet is a fleet's settings with the name of its Auto Scaling group.
type watchedFleet struct {
	cfg     config.Fleet
	asgName string
}

// fleets lists the fleets the GpuFleet stack built, with their ASG names.
func (o *obs) fleets() []watchedFleet {
	out := make([]watchedFleet, 0, len(o.p.GpuFleet.Fleets))
	for _, f := range o.p.GpuFleet.Fleets {
		out = append(out, watchedFleet{cfg: f.Cfg, asgName: f.AsgName})
	}
	return out
}

// fleetAlarms watch each fleet's queue, errors, leases, Spot interruptions and
// the cost leak of instances kept while the queue is empty. The backend
// publishes the worker metrics every minute whether or not instances run, so a
// gap means "nothing happened" for the counters (notBreaching).
func (o *obs) fleetAlarms() {
	a, stage := o.a, o.p.Cfg.Stage
	for _, f := range o.fleets() {
		slug := f.cfg.Slug
		dims := workerDims(slug, stage)
		w := func(name, stat string, period int) awscloudwatch.Metric {
			return alarms.Metric(WorkerNamespace, name, dims, stat, alarms.Minutes(period))
		}
		o.alarm(slug+"-queue-deep", alarms.Spec{
			Summary: fmt.Sprintf("fleet %s: QueueDepth stayed >= %d for 30 min", slug, a.QueueDepthDeep),
			Runbook: "workers are not keeping up: check ActiveWorkers vs the ASG's in-service count, launch failures (Spot capacity) and maxSize",
			Metric:  w("QueueDepth", "Minimum", 5), Threshold: float64(a.QueueDepthDeep), Comparison: gte, Periods: 6, Missing: notBreaching,
		})
		o.alarm(slug+"-error-rate", alarms.Spec{
			Summary: fmt.Sprintf("fleet %s: ErrorRate >= %d%% for 5 min", slug, a.FleetErrorRatePercent),
			Runbook: "read the worker journal (journalctl -u the worker unit via SSM) and the ComfyUI logs bucket for the failing workflow or model",
			Metric:  w("ErrorRate", "Average", 1), Threshold: float64(a.FleetErrorRatePercent), Comparison: gte, Periods: 5, Missing: notBreaching,
		})
		o.alarm(slug+"-lease-expired", alarms.Spec{
			Summary: fmt.Sprintf("fleet %s: >= %d job leases expired in 15 min", slug, a.LeaseExpiredCount),
			Runbook: "workers die or stop heartbeating mid-job: check Spot interruptions, worker crashes and GPU OOM in the worker journal",
			Metric:  w("LeaseExpiredCount", "Sum", 15), Threshold: float64(a.LeaseExpiredCount), Comparison: gte, Periods: 1, Missing: notBreaching,
		})
		o.alarm(slug+"-spot-interruptions", alarms.Spec{
			Summary: fmt.Sprintf("fleet %s: >= %d Spot interruptions in 15 min", slug, a.SpotInterruptionCount),
			Runbook: "the Spot pools are being reclaimed: add instance types to the fleet or allow onDemandPercent until capacity returns",
			Metric:  w("SpotInterruptionCount", "Sum", 15), Threshold: float64(a.SpotInterruptionCount), Comparison: gte, Periods: 1, Missing: notBreaching,
		})
		o.stuckFleetAlarm(f)
		o.workersMissingAlarm(f)
	}
}

// workersMissingAlarm fires when the fleet has instances in service and jobs
// waiting, yet the backend has seen no worker of the fleet (ActiveWorkers:
// workers seen in the last 5 minutes) for longer than an instance needs to
// boot and register (the fleet's warm-up plus the stuck margin): a wrong
// secret, a backend refusing registration, a worker crash loop or a broken
// AMI. The jobs wait and the instances are billed; neither the deep-queue nor
// the stuck alarm sees it below 10 jobs.
func (o *obs) workersMissingAlarm(f watchedFleet) {
	window := (f.cfg.WarmupSeconds+59)/60 + o.a.StuckFleetMarginMinutes
	periodMin, periods := stuckWindow(window)
	period := alarms.Minutes(periodMin)
	dims := workerDims(f.cfg.Slug, o.p.Cfg.Stage)
	expr := awscloudwatch.NewMathExpression(&awscloudwatch.MathExpressionProps{
		Expression: jsii.String("IF(FILL(inservice, 0) > 0 AND FILL(active, 0) == 0 AND FILL(queue, 0) > 0, 1, 0)"),
		UsingMetrics: &map[string]awscloudwatch.IMetric{
			"inservice": alarms.Metric("AWS/AutoScaling", "GroupInServiceInstances",
				map[string]*string{"AutoScalingGroupName": jsii.String(f.asgName)}, "Minimum", period),
			"active": alarms.Metric(WorkerNamespace, "ActiveWorkers", dims, "Maximum", period),
			"queue":  alarms.Metric(WorkerNamespace, "QueueDepth", dims, "Minimum", period),
		},
		Label:  jsii.String(f.cfg.Slug + " instances without workers"),
		Period: period,
	})
	o.alarm(f.cfg.Slug+"-workers-missing", alarms.Spec{
		Summary: fmt.Sprintf("fleet %s: instances in service and jobs queued, but no worker seen by the backend for %d min", f.cfg.Slug, periods*periodMin),
		Runbook: "workers do not register: read the worker journal via SSM (journalctl -u the worker unit): a 401/403 means the fleet secret differs from the backend's, a crash loop or ComfyUI failing its start shows there; check the AMI parameter's last build",
		Metric:  expr, Threshold: 1, Comparison: gte, Periods: periods, Missing: notBreaching,
	})
}

// stuckFleetAlarm fires when the ASG kept in-service instances while the queue
// was empty for longer than the scale-to-zero window plus a margin: scale-in
// protection never cleared or the scale-to-zero path is broken (a cost leak).
func (o *obs) stuckFleetAlarm(f watchedFleet) {
	window := f.cfg.ScaleToZeroMinutes + o.a.StuckFleetMarginMinutes
	periodMin, periods := stuckWindow(window)
	period := alarms.Minutes(periodMin)
	asg := map[string]*string{"AutoScalingGroupName": jsii.String(f.asgName)}
	metrics := map[string]awscloudwatch.IMetric{
		"inservice": alarms.Metric("AWS/AutoScaling", "GroupInServiceInstances", asg, "Minimum", period),
		"queue":     alarms.Metric(WorkerNamespace, "QueueDepth", workerDims(f.cfg.Slug, o.p.Cfg.Stage), "Maximum", period),
	}
	// A missing QueueDepth (backend not publishing) counts as empty: the
	// scale-to-zero path cannot work then either, and instances cost money.
	expression := "IF(FILL(inservice, 0) > 0 AND FILL(queue, 0) == 0, 1, 0)"
	if f.cfg.WarmBuffer.Enabled {
		// During the buffer the group's minimum keeps instances on purpose:
		// only instances above it are idle cost.
		metrics["minsize"] = alarms.Metric("AWS/AutoScaling", "GroupMinSize", asg, "Maximum", period)
		expression = "IF(FILL(inservice, 0) > FILL(minsize, 0) AND FILL(queue, 0) == 0, 1, 0)"
	}
	expr := awscloudwatch.NewMathExpression(&awscloudwatch.MathExpressionProps{
		Expression:   jsii.String(expression),
		UsingMetrics: &metrics,
		Label:        jsii.String(f.cfg.Slug + " idle instances"),
		Period:       period,
	})
	o.alarm(f.cfg.Slug+"-stuck", alarms.Spec{
		Summary: fmt.Sprintf("fleet %s: instances in service while QueueDepth was 0 for %d min (scale-to-zero %d + margin %d)",
			f.cfg.Slug, periods*periodMin, f.cfg.ScaleToZeroMinutes, o.a.StuckFleetMarginMinutes),
		Runbook: "GPU cost leak: check the queue-empty alarm and scale-to-zero Lambda logs, clear stale scale-in protection (the reaper does after protectedIdleLimitMinutes), set desired to 0",
		Metric:  expr, Threshold: 1, Comparison: gte, Periods: periods, Missing: notBreaching,
	})
}

// stuckWindow picks a period (minutes) and a count covering window minutes:
// one-minute periods where they fit, coarser ones to stay within CloudWatch's
// one-day evaluation range.
func stuckWindow(window int) (periodMin, periods int) {
	for _, p := range []int{1, 5, 60} {
		n := (window + p - 1) / p
		if n*p <= 24*60 && n <= 100 {
			return p, n
		}
	}
	return 60, 24
}

// launchFailureRule sends every "EC2 Instance Launch Unsuccessful" event of
// this stage's fleet ASGs to the alerts topic (Spot capacity, bad AMI, quota).
// The topic's policy already lets events.amazonaws.com of this account publish.
func (o *obs) launchFailureRule() {
	var asgs []any
	for _, f := range o.fleets() {
		asgs = append(asgs, f.asgName)
	}
	if len(asgs) == 0 {
		return
	}
	awsevents.NewCfnRule(o.stack, jsii.String("FleetLaunchFailures"), &awsevents.CfnRuleProps{
		Name:        jsii.String(o.p.Names.Resource("gpu-launch-failures")),
		Description: jsii.String("GPU fleet launch failures of " + o.p.Names.Prefix() + " -> ops alerts"),
		State:       jsii.String("ENABLED"),
		EventPattern: map[string]any{
			"source":      []any{"aws.autoscaling"},
			"detail-type": []any{"EC2 Instance Launch Unsuccessful"},
			"detail":      map[string]any{"AutoScalingGroupName": asgs},
		},
		Targets: []any{&awsevents.CfnRule_TargetProperty{
			Id:  jsii.String("OpsAlerts"),
			Arn: o.p.Net.AlertsTopic.TopicArn(),
			InputTransformer: &awsevents.CfnRule_InputTransformerProperty{
				InputPathsMap: map[string]*string{
					"asg": jsii.String("$.detail.AutoScalingGroupName"),
					"msg": jsii.String("$.detail.StatusMessage"),
				},
				InputTemplate: jsii.String(`"GPU launch unsuccessful in <asg>: <msg>. Runbook: Spot capacity -> add instance types or onDemandPercent; AMI/launch template errors -> check the AMI parameter and the last packer build."`),
			},
			RetryPolicy: &awsevents.CfnRule_RetryPolicyProperty{MaximumRetryAttempts: jsii.Number(10), MaximumEventAgeInSeconds: jsii.Number(3600)},
		}},
	})
}
