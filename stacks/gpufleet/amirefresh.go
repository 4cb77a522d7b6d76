package gpufleet

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"

	"github.com/bp/infra/bootcontract"
	"github.com/bp/infra/config"
	"github.com/bp/infra/constructs/gofunction"
	"github.com/bp/infra/stacks/base"
)

const amiRefreshFunctionID = "AmiRefreshFunction"

// AmiRefreshFunction is the name suffix of lambdas/amirefresh.
const AmiRefreshFunction = "ami-refresh"

// amiRefreshMinutes paces the run that finishes refreshes an earlier one
// could not (a worker busy for over the hour AWS waits).
const amiRefreshMinutes = 15

// parameterFleets are the fleets whose image comes from the AMI parameter
// (a pinned amiId changes only with a deploy, which CloudFormation handles).
func parameterFleets(fleets []Fleet) []Fleet {
	var out []Fleet
	for _, f := range fleets {
		if f.Cfg.AmiID == "" && f.Cfg.AmiParameter != "" {
			out = append(out, f)
		}
	}
	return out
}

// addAmiRefresh starts lambdas/amirefresh when the AMI pipeline writes a
// fleet's parameter (EventBridge "Parameter Store Change", Create or Update)
// and every amiRefreshMinutes. The launch template resolves the parameter at
// each launch, so new instances need nothing; the function replaces running
// ones with an instance refresh that waits for busy (scale-in protected)
// workers and launches every replacement before the old instance goes.
// SkipMatching cannot tell the images apart (the launch template version does
// not change with the parameter), so the function compares each instance's
// ImageId with the parameter itself. Returns the function's name, or "".
func addAmiRefresh(stack awscdk.Stack, p Props, fleets []Fleet) gofunction.Function {
	fleets = parameterFleets(fleets)
	if len(fleets) == 0 {
		return gofunction.Function{}
	}
	type entry struct {
		Slug         string `json:"slug"`
		ASGName      string `json:"asgName"`
		AmiParameter string `json:"amiParameter"`
	}
	list := make([]entry, 0, len(fleets))
	params := make([]interface{}, 0, len(fleets))
	paramArns := make([]*string, 0, len(fleets))
	for _, f := range fleets {
		list = append(list, entry{Slug: f.Slug, ASGName: f.AsgName, AmiParameter: f.Cfg.AmiParameter})
		params = append(params, f.Cfg.AmiParameter)
		paramArns = append(paramArns, base.SSMParameterArn(stack, f.Cfg.AmiParameter))
	}
	fn := fleetFunction(stack, p, amiRefreshFunctionID, "lambdas/cmd/amirefresh", AmiRefreshFunction,
		"Moves running "+p.Cfg.Stage+" GPU instances onto a new AMI without stopping a busy worker",
		awscdk.Duration_Minutes(jsii.Number(1)), map[string]string{"STAGE": p.Cfg.Stage, "FLEETS": mustJSON(list)})
	add := func(actions []string, resources *[]*string, conditions *map[string]interface{}) {
		fn.Role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Actions: jsii.Strings(actions...), Resources: resources, Conditions: conditions,
		}))
	}
	add([]string{"autoscaling:DescribeAutoScalingGroups", "autoscaling:DescribeInstanceRefreshes", "ec2:DescribeInstances"}, jsii.Strings("*"), nil)
	add([]string{"ssm:GetParameter"}, &paramArns, nil)
	add([]string{"autoscaling:StartInstanceRefresh"}, fleetAsgArns(stack, fleets...), &map[string]interface{}{
		"StringEquals": map[string]interface{}{"autoscaling:ResourceTag/" + bootcontract.TagStage: p.Cfg.Stage},
	})
	target := awseventstargets.NewLambdaFunction(fn.Function, nil)
	awsevents.NewRule(stack, jsii.String("AmiParameterChanged"), &awsevents.RuleProps{
		RuleName:    jsii.String(p.Names.Resource("gpu-ami-changed")),
		Description: jsii.String("A new AMI id in a " + p.Cfg.Stage + " GPU fleet's parameter -> refresh the running instances"),
		EventPattern: &awsevents.EventPattern{
			Source:     jsii.Strings("aws.ssm"),
			DetailType: jsii.Strings("Parameter Store Change"),
			Detail: &map[string]interface{}{
				"name":      params,
				"operation": []interface{}{"Create", "Update"},
			},
		},
		Targets: &[]awsevents.IRuleTarget{target},
	})
	awsevents.NewRule(stack, jsii.String("AmiRefreshSchedule"), &awsevents.RuleProps{
		Description: jsii.String("Finishes " + p.Cfg.Stage + " GPU fleet AMI refreshes that an earlier one could not"),
		Schedule:    awsevents.Schedule_Rate(awscdk.Duration_Minutes(jsii.Number(amiRefreshMinutes))),
		Targets:     &[]awsevents.IRuleTarget{target},
	})
	return fn
}

// HasAmiRefresh reports whether the stage builds lambdas/amirefresh: some
// fleet takes its image from the AMI parameter.
func HasAmiRefresh(cfg config.Stage) bool {
	for _, f := range cfg.Fleets {
		if f.AmiID == "" && f.AmiParameter != "" {
			return true
		}
	}
	return false
}
