// Package stacks composes a stage from its five stacks (one package each:
// network, data, compute, gpufleet, observability), in deploy order,
// passing typed values between them.
package stacks

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/bp/infra/config"
	"github.com/bp/infra/constructs/gofunction"
	"github.com/bp/infra/naming"
	"github.com/bp/infra/stacks/base"
	"github.com/bp/infra/stacks/cicd"
	"github.com/bp/infra/stacks/compute"
	"github.com/bp/infra/stacks/data"
	"github.com/bp/infra/stacks/gpufleet"
	"github.com/bp/infra/stacks/network"
	"github.com/bp/infra/stacks/observability"
)

// Stage is one deployment stage: its settings and its stacks in deploy order.
type Stage struct {
	Stage         awscdk.Stage
	Cfg           config.Stage
	Names         naming.Names
	Network       network.Network
	Data          data.Data
	Compute       compute.Compute
	GpuFleet      gpufleet.GpuFleet
	Observability observability.Observability
	// CI is the deploy role's stack, outside the Stage (deployed by an
	// admin with make deploy-ci, never by make deploy).
	CI cicd.CI
}

// Stacks lists the stage's CDK stacks in deploy order, then its ci stack.
func (s Stage) Stacks() []awscdk.Stack {
	return []awscdk.Stack{s.Network.Stack, s.Data.Stack, s.Compute.Stack, s.GpuFleet.Stack, s.Observability.Stack, s.CI.Stack}
}

// Build adds one awscdk.Stage per configured stage to the app. Each stage is
// built from its own settings only (review blocker 1).
func Build(app constructs.Construct, stages []config.Stage) []Stage {
	// The Lambda handlers are read from the build cache (or built) while the
	// first stacks are defined, not when the data stack first asks for one;
	// not at all when no stack is bundled (aws:cdk:bundling-stacks is empty).
	if stacks, ok := app.Node().TryGetContext(jsii.String("aws:cdk:bundling-stacks")).([]any); !ok || len(stacks) > 0 {
		gofunction.Prefetch("lambdas/cmd")
	}
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
	base.TagStage(stage, cfg)
	// Each stack is finished as it is built (its CDK-made Lambdas given log
	// groups, its reviewed cdk-nag suppressions attached), so Observability
	// sees every log group it watches.
	s := Stage{Stage: stage, Cfg: cfg, Names: names}
	s.Network = network.New(stage, network.Props{Cfg: cfg, Names: names})
	s.Data = data.New(stage, data.Props{Cfg: cfg, Names: names, Net: s.Network})
	s.Compute = compute.New(stage, compute.Props{Cfg: cfg, Names: names, Net: s.Network, Data: s.Data})
	s.GpuFleet = gpufleet.New(stage, gpufleet.Props{Cfg: cfg, Names: names, Net: s.Network, Data: s.Data})
	s.Observability = observability.New(stage, observability.Props{Cfg: cfg, Names: names, Net: s.Network, Data: s.Data,
		Compute: s.Compute, GpuFleet: s.GpuFleet})

	awscdk.Aspects_Of(stage).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{Verbose: jsii.Bool(true)}), nil)
	s.CI = cicd.New(app, cicd.Props{Cfg: cfg, Names: names})
	return s
}
