// Package base holds what every stack package shares: the stack constructor,
// the stage's log groups and the reviewed cdk-nag suppression type.
package base

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/bp/infra/bootcontract"
	"github.com/bp/infra/config"
	"github.com/bp/infra/naming"
)

// NewStack creates one stack of a stage with its physical name, env and the
// Service tag; Project, Stage and Owner come from the stage.
func NewStack(scope constructs.Construct, cfg config.Stage, names naming.Names, kind, description string) awscdk.Stack {
	stack := awscdk.NewStack(scope, jsii.String(kind), &awscdk.StackProps{
		StackName:   jsii.String(names.Stack(kind)),
		Description: jsii.String(names.Stack(kind) + ": " + description),
		Env: &awscdk.Environment{
			Account: jsii.String(cfg.Account),
			Region:  jsii.String(cfg.Region),
		},
		TerminationProtection: jsii.Bool(cfg.IsProduction()),
	})
	awscdk.Tags_Of(stack).Add(jsii.String("Service"), jsii.String(kind), nil)
	return stack
}

// Finish completes a stack once all its constructs exist: CDK's own Lambdas
// get log groups with the stage's retention, then the stack's reviewed
// cdk-nag suppressions (those whose When holds) are attached.
func Finish(stack awscdk.Stack, cfg config.Stage, names naming.Names, suppressions []Suppression) {
	applyLogRetention(stack, cfg.LogRetentionDays, names)
	applySuppressions(stack, cfg, suppressions)
}

// TagStage gives every resource below scope the stage's cost tags (the
// budget filters on Stage); each stack adds its Service tag.
func TagStage(scope constructs.Construct, cfg config.Stage) {
	for k, v := range map[string]string{"Project": cfg.AppPrefix, bootcontract.TagStage: cfg.Stage, "Owner": cfg.Owner} {
		awscdk.Tags_Of(scope).Add(jsii.String(k), jsii.String(v), nil)
	}
}
