package gpufleet

import (
	"strconv"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"

	"github.com/bp/infra/bootcontract"
	"github.com/bp/infra/config"
	"github.com/bp/infra/constructs/gofunction"
)

const spotFallbackFunctionID = "SpotFallbackFunction"

// SpotFallbackFunction is the name suffix of lambdas/spotfallback.
const SpotFallbackFunction = "spot-fallback"

// FallbackStateTag is the ASG tag where lambdas/spotfallback keeps a fleet's
// fallback state ("<app>:on-demand-fallback").
func FallbackStateTag(cfg config.Stage) string { return cfg.AppPrefix + ":on-demand-fallback" }

// templateOnDemandBase is the OnDemandBaseCapacity newFleetAsg writes; the
// fallback restores it when it ends.
const templateOnDemandBase = 0

// fallbackFleets are the fleets whose On-Demand fallback is on.
func fallbackFleets(fleets []Fleet) []Fleet {
	var out []Fleet
	for _, f := range fleets {
		if f.Cfg.OnDemandFallback.Enabled {
			out = append(out, f)
		}
	}
	return out
}

// HasSpotFallback reports whether the stage builds lambdas/spotfallback.
func HasSpotFallback(cfg config.Stage) bool {
	for _, f := range cfg.Fleets {
		if f.OnDemandFallback.Enabled {
			return true
		}
	}
	return false
}

// addSpotFallback runs lambdas/spotfallback every minute for the fleets that
// enable it. Its writes are UpdateAutoScalingGroup (the On-Demand base) and
// CreateOrUpdateTags (its state tag only) on those fleets' groups; it alerts
// the stage's alerts topic once per episode. CloudFormation re-applies the
// template's MixedInstancesPolicy only when a deploy changes the group, and
// the function re-asserts its state every run, so such a deploy undoes a
// fallback for at most a minute. Returns the function's name, or "".
func addSpotFallback(stack awscdk.Stack, p Props, fleets []Fleet) gofunction.Function {
	fleets = fallbackFleets(fleets)
	if len(fleets) == 0 {
		return gofunction.Function{}
	}
	type entry struct {
		Slug               string `json:"slug"`
		ASGName            string `json:"asgName"`
		MaxInstances       int    `json:"maxInstances"`
		AfterMinutes       int    `json:"afterMinutes"`
		ScaleToZeroMinutes int    `json:"scaleToZeroMinutes"`
		BaseCapacity       int    `json:"baseCapacity"`
	}
	list := make([]entry, 0, len(fleets))
	for _, f := range fleets {
		fb := f.Cfg.OnDemandFallback
		list = append(list, entry{Slug: f.Slug, ASGName: f.AsgName, MaxInstances: fb.MaxInstances, AfterMinutes: fb.AfterMinutes,
			ScaleToZeroMinutes: f.Cfg.ScaleToZeroMinutes, BaseCapacity: templateOnDemandBase})
	}
	tag := FallbackStateTag(p.Cfg)
	fn := fleetFunction(stack, p, spotFallbackFunctionID, "lambdas/cmd/spotfallback", SpotFallbackFunction,
		"Moves "+p.Cfg.Stage+" GPU fleets to On-Demand, within their bound, while Spot launches fail and jobs wait",
		awscdk.Duration_Seconds(jsii.Number(50)), // under the 1-minute schedule: runs do not overlap
		map[string]string{
			"STAGE": p.Cfg.Stage, "FLEETS": mustJSON(list), "METRIC_NAMESPACE": bootcontract.MetricsNamespace,
			"ALERT_TOPIC_ARN": *p.Net.AlertsTopic.TopicArn(), "STATE_TAG": tag,
		})
	add := func(actions []string, resources *[]*string, conditions *map[string]interface{}) {
		fn.Role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Actions: jsii.Strings(actions...), Resources: resources, Conditions: conditions,
		}))
	}
	// Reads without resource-level permissions.
	add([]string{"autoscaling:DescribeAutoScalingGroups", "autoscaling:DescribeScalingActivities", "cloudwatch:GetMetricData", "ec2:DescribeInstances"},
		jsii.Strings("*"), nil)
	stageTag := map[string]interface{}{"autoscaling:ResourceTag/" + bootcontract.TagStage: p.Cfg.Stage}
	add([]string{"autoscaling:UpdateAutoScalingGroup"}, fleetAsgArns(stack, fleets...), &map[string]interface{}{"StringEquals": stageTag})
	// Only its own state tag: aws:TagKeys lists every key a tagging request sets.
	add([]string{"autoscaling:CreateOrUpdateTags"}, fleetAsgArns(stack, fleets...), &map[string]interface{}{
		"StringEquals":              stageTag,
		"ForAllValues:StringEquals": map[string]interface{}{"aws:TagKeys": []string{tag}},
	})
	p.Net.AlertsTopic.GrantPublish(fn.Role)
	awsevents.NewRule(stack, jsii.String("SpotFallbackSchedule"), &awsevents.RuleProps{
		Description: jsii.String("Runs the " + p.Cfg.Stage + " GPU fleets' On-Demand fallback every minute (" + strconv.Itoa(len(fleets)) + " fleets)"),
		Schedule:    awsevents.Schedule_Rate(awscdk.Duration_Minutes(jsii.Number(1))),
		Targets:     &[]awsevents.IRuleTarget{awseventstargets.NewLambdaFunction(fn.Function, nil)},
	})
	return fn
}
