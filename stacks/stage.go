package stacks

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/bp/infra/config"
	"github.com/bp/infra/naming"
)

// Stage is one deployment stage: its settings and its stacks in deploy order.
type Stage struct {
	Stage         awscdk.Stage
	Cfg           config.Stage
	Names         naming.Names
	Network       Network
	Data          Data
	Compute       Compute
	GpuFleet      GpuFleet
	Observability Observability
}

// Stacks lists the stage's CDK stacks in deploy order.
func (s Stage) Stacks() []awscdk.Stack {
	return []awscdk.Stack{s.Network.Stack, s.Data.Stack, s.Compute.Stack, s.GpuFleet.Stack, s.Observability.Stack}
}

// stackByKind returns the stack of a naming stack kind.
func (s Stage) stackByKind(kind string) awscdk.Stack {
	for _, st := range s.Stacks() {
		if *st.Node().Id() == kind {
			return st
		}
	}
	panic("no stack of kind " + kind)
}

// Build adds one awscdk.Stage per configured stage to the app. Each stage is
// built from its own settings only (review blocker 1).
func Build(app constructs.Construct, stages []config.Stage) []Stage {
	out := make([]Stage, 0, len(stages))
	for _, cfg := range stages {
		out = append(out, BuildStage(app, cfg))
	}
	return out
}

// BuildStage builds every stack of one stage, tags them and attaches the
// AwsSolutions checks (App-level aspects do not reach into a Stage).
func BuildStage(app constructs.Construct, cfg config.Stage) Stage {
	names := naming.New(cfg.AppPrefix, cfg.Stage)
	stage := awscdk.NewStage(app, jsii.String(cfg.Stage), &awscdk.StageProps{
		Env:       &awscdk.Environment{Account: jsii.String(cfg.Account), Region: jsii.String(cfg.Region)},
		StageName: jsii.String(cfg.Stage),
	})
	// The VPC checks its zones against the stack's zones, which CDK would look
	// up with AWS credentials. Answer that lookup from config: synthesis stays
	// offline and deterministic.
	stage.Node().SetContext(jsii.String(fmt.Sprintf("availability-zones:account=%s:region=%s", cfg.Account, cfg.Region)), cfg.AvailabilityZones)
	for k, v := range map[string]string{"Project": cfg.AppPrefix, "Stage": cfg.Stage, "Owner": cfg.Owner} {
		awscdk.Tags_Of(stage).Add(jsii.String(k), jsii.String(v), nil)
	}
	// Each stack is finished (its CDK-made Lambdas given log groups) before
	// the next is built, so Observability sees every log group it watches.
	finish := func(stack awscdk.Stack) { applyLogRetention(stack, cfg.LogRetentionDays, names) }
	s := Stage{Stage: stage, Cfg: cfg, Names: names}
	s.Network = NewNetwork(stage, NetworkProps{Cfg: cfg, Names: names})
	finish(s.Network.Stack)
	s.Data = NewData(stage, DataProps{Cfg: cfg, Names: names, Net: s.Network})
	finish(s.Data.Stack)
	s.Compute = NewCompute(stage, ComputeProps{Cfg: cfg, Names: names, Net: s.Network, Data: s.Data})
	finish(s.Compute.Stack)
	s.GpuFleet = NewGpuFleet(stage, GpuFleetProps{Cfg: cfg, Names: names, Net: s.Network, Data: s.Data})
	finish(s.GpuFleet.Stack)
	s.Observability = NewObservability(stage, ObservabilityProps{Cfg: cfg, Names: names, Net: s.Network, Data: s.Data,
		Compute: s.Compute, GpuFleet: s.GpuFleet})
	finish(s.Observability.Stack)

	applyNagSuppressions(s)
	awscdk.Aspects_Of(stage).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{Verbose: jsii.Bool(true)}), nil)
	return s
}
