package gpufleet

import (
	"encoding/json"
	"strconv"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssnssubscriptions"
	"github.com/aws/jsii-runtime-go"

	"github.com/bp/infra/bootcontract"
	"github.com/bp/infra/constructs/gofunction"
	"github.com/bp/infra/constructs/topic"
	"github.com/bp/infra/stacks/base"
)

// ReaperMinIdleMinutes is the shortest idle window lambdas/reaper accepts.
const ReaperMinIdleMinutes = 5

// newScaleToZeroTopic is "<app>-<stage>-scale-to-zero" (blocker 8: the old
// topic was shared by every stage), encrypted and SSL-only. Only this
// account's CloudWatch alarms publish.
func newScaleToZeroTopic(stack awscdk.Stack, p Props) awssns.ITopic {
	return topic.New(stack, "ScaleToZero", topic.Props{
		Name:       p.Names.ScaleToZeroTopic(),
		Publishers: []topic.Publisher{topic.CloudWatchAlarms},
		SharedKey:  p.Net.AlertsKey, // it admits CloudWatch alarms already
	}).Topic
}

// fleetFunction builds one of the fleet Lambdas; gofunction gives it a log
// group with the stage's retention.
func fleetFunction(stack awscdk.Stack, p Props, id, pkg, what, description string, timeout awscdk.Duration, env map[string]string) gofunction.Function {
	name := p.Names.Function(what)
	return gofunction.New(stack, id, gofunction.Props{
		Package: pkg, FunctionName: name, Description: description, Timeout: timeout,
		MemoryMiB: 128, LogRetention: base.Retention(p.Cfg.LogRetentionDays), Environment: env,
	})
}

// grantFleetAutoScaling lets a fleet Lambda read groups (Describe* has no
// resource-level permissions) and run actions only on this stage's fleet ASGs.
func grantFleetAutoScaling(role awsiam.IRole, p Props, fleets []Fleet, actions ...string) {
	slugs := make([]string, 0, len(fleets))
	for _, f := range fleets {
		slugs = append(slugs, f.Slug)
	}
	role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions: jsii.Strings("autoscaling:DescribeAutoScalingGroups"), Resources: jsii.Strings("*"),
	}))
	role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions: jsii.Strings(actions...), Resources: fleetAsgArns(role, fleets...), Conditions: fleetTagConditions(p.Cfg.Stage, slugs...),
	}))
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// addScaleToZeroHandler subscribes lambdas/scaletozero to the stage's topic.
// It knows only this stage's fleets and checks the ASG's Stage tag too.
func addScaleToZeroHandler(stack awscdk.Stack, p Props, fleets []Fleet, topic awssns.ITopic) gofunction.Function {
	asgs := map[string]string{}
	for _, f := range fleets {
		asgs[f.Slug] = f.AsgName
	}
	fn := fleetFunction(stack, p, scaleToZeroFunctionID, "lambdas/cmd/scaletozero", "scale-to-zero",
		"Sets "+p.Cfg.Stage+" GPU fleets to zero when their queue-empty alarm fires", awscdk.Duration_Seconds(jsii.Number(30)),
		map[string]string{"STAGE": p.Cfg.Stage, "FLEET_ASGS": mustJSON(asgs)})
	grantFleetAutoScaling(fn.Role, p, fleets, "autoscaling:SetDesiredCapacity")
	topic.AddSubscription(awssnssubscriptions.NewLambdaSubscription(fn.Function, nil))
	return fn
}

// reaperIdleMinutes is the reaper's one idle window for all fleets: the
// longest configured limit, so no fleet's protection is cleared early.
func reaperIdleMinutes(fleets []Fleet) int {
	m := ReaperMinIdleMinutes
	for _, f := range fleets {
		m = max(m, f.Cfg.ProtectedIdleLimitMinutes)
	}
	return m
}

// addReaper runs lambdas/reaper every 5 minutes: it clears scale-in
// protection left on instances of a fleet whose queue has been empty for the
// idle window, and reports each case to the alerts topic.
func addReaper(stack awscdk.Stack, p Props, fleets []Fleet) gofunction.Function {
	type entry struct {
		Slug             string `json:"slug"`
		ASGName          string `json:"asgName"`
		IdleLimitMinutes int    `json:"idleLimitMinutes"`
	}
	list := make([]entry, 0, len(fleets))
	for _, f := range fleets {
		list = append(list, entry{Slug: f.Slug, ASGName: f.AsgName, IdleLimitMinutes: max(ReaperMinIdleMinutes, f.Cfg.ProtectedIdleLimitMinutes)})
	}
	fn := fleetFunction(stack, p, reaperFunctionID, "lambdas/cmd/reaper", "fleet-reaper",
		"Clears stale scale-in protection of idle "+p.Cfg.Stage+" GPU fleets", awscdk.Duration_Minutes(jsii.Number(2)),
		map[string]string{
			"STAGE": p.Cfg.Stage, "FLEETS": mustJSON(list), "METRIC_NAMESPACE": bootcontract.MetricsNamespace,
			"IDLE_LIMIT_MINUTES": strconv.Itoa(reaperIdleMinutes(fleets)), "ALERT_TOPIC_ARN": *p.Net.AlertsTopic.TopicArn(),
		})
	grantFleetAutoScaling(fn.Role, p, fleets, "autoscaling:SetInstanceProtection")
	// GetMetricData has no resource-level permissions.
	fn.Role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions: jsii.Strings("cloudwatch:GetMetricData"), Resources: jsii.Strings("*"),
	}))
	p.Net.AlertsTopic.GrantPublish(fn.Role)
	awsevents.NewRule(stack, jsii.String("ReaperSchedule"), &awsevents.RuleProps{
		Description: jsii.String("Runs the " + p.Cfg.Stage + " fleet reaper every 5 minutes"),
		Schedule:    awsevents.Schedule_Rate(awscdk.Duration_Minutes(jsii.Number(5))),
		Targets:     &[]awsevents.IRuleTarget{awseventstargets.NewLambdaFunction(fn.Function, nil)},
	})
	return fn
}

// addProtectionRelease places lambdas/protectionrelease after every fleet ASG:
// on stack deletion CloudFormation deletes it first, its Delete clears
// scale-in protection, and the ASGs can then be deleted.
func addProtectionRelease(stack awscdk.Stack, p Props, fleets []Fleet) gofunction.Function {
	fn := fleetFunction(stack, p, protectionReleaseFunction, "lambdas/cmd/protectionrelease", "fleet-protection-release",
		"Clears scale-in protection of "+p.Cfg.Stage+" GPU fleets before their ASGs are deleted", awscdk.Duration_Minutes(jsii.Number(5)), nil)
	grantFleetAutoScaling(fn.Role, p, fleets, "autoscaling:SetInstanceProtection")
	names := make([]*string, 0, len(fleets))
	for _, f := range fleets {
		names = append(names, jsii.String(f.AsgName))
	}
	cr := awscdk.NewCustomResource(stack, jsii.String("ProtectionRelease"), &awscdk.CustomResourceProps{
		ServiceToken: fn.Function.FunctionArn(),
		ResourceType: jsii.String("Custom::FleetProtectionRelease"),
		Properties:   &map[string]interface{}{"AsgNames": &names},
	})
	// Its Delete must run while the role's grants still exist and before the ASGs go.
	cr.Node().AddDependency(fn.Role)
	for _, f := range fleets {
		cr.Node().AddDependency(f.Asg)
	}
	return fn
}
