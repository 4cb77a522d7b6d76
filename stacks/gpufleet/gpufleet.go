package gpufleet

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsautoscaling"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/bp/infra/config"
	"github.com/bp/infra/naming"
	"github.com/bp/infra/stacks/base"
	"github.com/bp/infra/stacks/data"
	"github.com/bp/infra/stacks/network"
)

// Props configure the GpuFleet stack.
type Props struct {
	Cfg   config.Stage
	Names naming.Names
	Net   network.Network
	Data  data.Data
}

// Fleet is one GPU fleet as other stacks see it.
type Fleet struct {
	Cfg     config.Fleet
	Asg     awsautoscaling.AutoScalingGroup
	AsgName string
	// Slug is Cfg.Slug: the FleetSlug dimension of ComfyUI/Workers metrics.
	Slug string
	// LaunchTemplateName and WorkerLogGroupName are the fleet's physical names.
	LaunchTemplateName string
	WorkerLogGroupName string
	// QueueHasJobsAlarmName scales 0 -> 1; QueueEmptyAlarmName notifies the
	// scale-to-zero topic after Cfg.ScaleToZeroMinutes of empty queue.
	QueueHasJobsAlarmName string
	QueueEmptyAlarmName   string
}

// GpuFleet holds the stage's GPU fleets and their scale-to-zero path.
type GpuFleet struct {
	Stack            awscdk.Stack
	Fleets           []Fleet
	ScaleToZeroTopic awssns.ITopic
	// FunctionAlarmNames are the fleet Lambdas' error alarms, built here
	// beside the functions (for the dashboard).
	FunctionAlarmNames []string
}

// Construct ids below the stack that the reviewed nag suppressions name.
const (
	fleetsID                  = "Fleets" // every per-fleet construct lives below Fleets/<slug>
	scaleToZeroFunctionID     = "ScaleToZeroFunction"
	reaperFunctionID          = "ReaperFunction"
	protectionReleaseFunction = "ProtectionReleaseFunction"
)

// New builds the GpuFleet stack: per fleet a launch template and a
// Spot ASG that scales 0 -> 1 -> N on QueueDepth, then N -> 0 through the
// stage's scale-to-zero topic; a reaper for stale scale-in protection; and a
// custom resource that releases protection before the ASGs are deleted.
func New(scope constructs.Construct, p Props) GpuFleet {
	stack := base.NewStack(scope, p.Cfg, p.Names, naming.GpuFleet, "ComfyUI GPU worker fleets on Spot that scale 0 -> N -> 0")
	g := GpuFleet{Stack: stack}
	stz := newScaleToZeroTopic(stack, p)
	g.ScaleToZeroTopic = stz

	parent := constructs.NewConstruct(stack, jsii.String(fleetsID))
	for _, fc := range p.Cfg.Fleets {
		g.Fleets = append(g.Fleets, newFleet(constructs.NewConstruct(parent, jsii.String(fc.Slug)), p, fc, stz))
	}
	g.FunctionAlarmNames = addFunctionAlarms(stack, p, []watchedFunction{
		{"scale-to-zero-errors", "fleets will not scale to zero: read the function's log group, check its Stage-tag check and autoscaling permissions",
			addScaleToZeroHandler(stack, p, g.Fleets, stz)},
		{"reaper-errors", "stale scale-in protection is not cleared: read the function's log group; clear protection by hand if a fleet is stuck",
			addReaper(stack, p, g.Fleets)},
		{"protection-release-errors", "a fleet ASG deletion may hang on protected instances: read the function's log group, clear protection by hand",
			addProtectionRelease(stack, p, g.Fleets)},
		{"spot-fallback-errors", "the On-Demand fallback cannot run: read the function's log group (Stage-tag check, autoscaling and GetMetricData permissions); until fixed, raise the fleet's OnDemandBaseCapacity by hand while Spot is short",
			addSpotFallback(stack, p, g.Fleets)},
		{"ami-refresh-errors", "running GPU instances may stay on the previous AMI: read the function's log group; start an instance refresh by hand with ScaleInProtectedInstances=Wait",
			addAmiRefresh(stack, p, g.Fleets)},
	})
	base.Finish(stack, p.Cfg, p.Names, append(suppressions(p.Cfg, p.Names), capacitySuppressions(p.Cfg, p.Names)...))
	return g
}

// newFleet builds one fleet: worker role, log group, launch template, ASG,
// its scaling and its nightly schedule.
func newFleet(scope constructs.Construct, p Props, fc config.Fleet, stz awssns.ITopic) Fleet {
	f := Fleet{
		Cfg:                   fc,
		Slug:                  fc.Slug,
		AsgName:               p.Names.FleetAsg(fc.Slug),
		LaunchTemplateName:    p.Names.FleetLaunchTemplate(fc.Slug),
		WorkerLogGroupName:    p.Names.LogGroup("gpu/" + fc.Slug),
		QueueHasJobsAlarmName: p.Names.Alarm(fc.Slug + "-queue-has-jobs"),
		QueueEmptyAlarmName:   p.Names.Alarm(fc.Slug + "-queue-empty"),
	}
	role := newWorkerRole(scope, p, f)
	lt := newLaunchTemplate(scope, p, f, role)
	f.Asg = newFleetAsg(scope, p, f, lt)
	addFleetScaling(scope, p, f, stz)
	addWarmBuffer(f)
	return f
}
