package compute

import (
	"github.com/bp/infra/config"
	"github.com/bp/infra/naming"
	"github.com/bp/infra/stacks/base"
)

// suppressions are the Compute stack's reviewed cdk-nag exceptions.
func suppressions(cfg config.Stage, names naming.Names) []base.Suppression {
	var out []base.Suppression
	for _, task := range []string{"BackendTask", "FrontendTask"} {
		out = append(out,
			base.Suppression{Path: task + "/Resource", Rule: "AwsSolutions-ECS2",
				Reason: "Only non-secret settings are plain environment, by the app's contract (system-facts section 5); every secret is an ECS secret from Secrets Manager (tested by TestBlocker5)."},
			base.Suppression{Path: task + "/ExecutionRole/DefaultPolicy/Resource", Rule: "AwsSolutions-IAM5", AppliesTo: []string{"Resource::*"},
				Reason: "ecr:GetAuthorizationToken has no resource-level permissions; image pulls and secret reads are scoped to the stage's repositories and secrets."},
			base.Suppression{Path: task + "/TaskRole/DefaultPolicy/Resource", Rule: "AwsSolutions-IAM5", AppliesTo: []string{"Resource::*"},
				When:   func(c config.Stage) bool { return c.Cluster.ExecEnabled || task == "BackendTask" },
				Reason: "ECS Exec's ssmmessages channel actions (only with cluster.execEnabled) and the backend's cloudwatch:PutMetricData have no resource-level permissions; PutMetricData is limited to the ComfyUI/Workers namespace by condition."},
		)
	}
	for _, task := range []string{"BackendTask", "FrontendTask"} {
		out = append(out, base.Suppression{Path: task + "/TaskRole/DefaultPolicy/Resource", Rule: "AwsSolutions-IAM5",
			AppliesTo: []string{"Resource::arn:<AWS::Partition>:logs:" + cfg.Region + ":" + cfg.Account + ":log-group:<ExecSessionLogs0C1778EC>:*"},
			When:      func(c config.Stage) bool { return c.Cluster.ExecEnabled },
			Reason:    "ECS Exec writes each session to its own stream of the stage's exec log group: the * stands for the stream names of that one group (CDK's grant for the cluster's execute-command logging)."})
	}
	out = append(out, base.Suppression{Path: "BackendTask/TaskRole/DefaultPolicy/Resource", Rule: "AwsSolutions-IAM5",
		AppliesTo: []string{"Resource::<ComfyLogsBucket4D605A1A.Arn>/*", "Resource::<MediaBucketBCBB02BA.Arn>/*", "Resource::<ModelsBucketA3610ED4.Arn>/*"},
		Reason:    "The app reads and writes any object of its own media, models and ComfyUI-logs buckets (user uploads, model assets, job logs), with object actions only."})
	pointer := func(name string) string {
		return "Resource::arn:<AWS::Partition>:ssm:" + cfg.Region + ":" + cfg.Account + ":parameter" + names.FleetPointerParameter("*", name)
	}
	out = append(out, base.Suppression{Path: "BackendTask/TaskRole/DefaultPolicy/Resource", Rule: "AwsSolutions-IAM5",
		AppliesTo: []string{pointer(naming.ActiveBundlePointer), pointer(naming.DesiredConfigPointer)},
		Reason: "The Admin UI reads and writes the active_bundle and desired_config pointers of any fleet of its own stage (fleets are added at run time); " +
			"the * stands for the fleet slug only, ssm:GetParameter/PutParameter only."})
	return out
}
