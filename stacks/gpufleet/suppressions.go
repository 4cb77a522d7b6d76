package gpufleet

import (
	"github.com/bp/infra/config"
	"github.com/bp/infra/naming"
	"github.com/bp/infra/stacks/base"
)

// suppressions are the GpuFleet stack's reviewed cdk-nag exceptions, each on
// one resource of one fleet or of one function (base.applySuppressions
// puts each on that resource only).
func suppressions(cfg config.Stage, names naming.Names) []base.Suppression {
	asgArn := func(slugs ...string) []string { return nagAsgArns(cfg, names, slugs...) }
	var all []string
	for _, f := range cfg.Fleets {
		all = append(all, f.Slug)
	}
	uuid := "Auto Scaling group ARNs carry a random uuid unknown at synth (arn:...:autoScalingGroup:<uuid>:autoScalingGroupName/<name>): the * stands for that uuid only, the name is exact, and the Stage and FleetSlug tag conditions must hold too. "
	describe := "autoscaling:DescribeAutoScalingGroups has no resource-level permissions, so it needs *. "
	var out []base.Suppression
	for _, f := range cfg.Fleets {
		fleet := fleetsID + "/" + f.Slug
		out = append(out,
			base.Suppression{Path: fleet + "/WorkerRole/DefaultPolicy/Resource", Rule: "AwsSolutions-IAM5", AppliesTo: []string{"Resource::*"},
				Reason: "GPU worker role of fleet " + f.Slug + ": cloudwatch:PutMetricData has no resource-level permissions and is limited by condition to the stage's own worker namespace <app>/<stage>/gpu-worker (not the backend's ComfyUI/Workers); " +
					"the Session Manager channel actions (ssm:UpdateInstanceInformation, ssmmessages:*Channel, ec2messages:*) support no resource scoping. No SSH."},
			base.Suppression{Path: fleet + "/WorkerRole/DefaultPolicy/Resource", Rule: "AwsSolutions-IAM5", AppliesTo: asgArn(f.Slug),
				Reason: "autoscaling:SetInstanceProtection on the fleet's own group only: " + uuid},
			base.Suppression{Path: fleet + "/WorkerRole/DefaultPolicy/Resource", Rule: "AwsSolutions-IAM5",
				AppliesTo: []string{"Resource::<ModelsBucketA3610ED4.Arn>/assets/*", "Resource::<ModelsBucketA3610ED4.Arn>/bundles/*"},
				Reason:    "GPU workers read (s3:GetObject only) the content-addressed model assets and bundle manifests of the models bucket; which objects a bundle needs is known only at run time. Nothing else in the bucket is readable."},
			base.Suppression{Path: fleet + "/Asg/ASG", Rule: "AwsSolutions-AS3",
				Reason: "Launch and terminate errors notify the alerts topic; routine launch/terminate events of a fleet that scales 0 -> N -> 0 all day would page people for nothing and are visible in the ASG activity history and group metrics."},
			base.Suppression{Path: fleet + "/Asg/ASG", Rule: "CdkNagValidationFailure", AppliesTo: []string{"AwsSolutions-EC26"},
				Reason: "EC26 cannot resolve the launch template of a mixed-instances ASG; the launch template's only volume is an encrypted gp3 root volume, asserted by TestGpuFleetLaunchTemplate."},
		)
	}
	return append(out,
		base.Suppression{Path: scaleToZeroFunctionID + "Role/DefaultPolicy/Resource", Rule: "AwsSolutions-IAM5", AppliesTo: []string{"Resource::*"},
			Reason: describe + "Its write action is scoped to the fleets' groups."},
		base.Suppression{Path: scaleToZeroFunctionID + "Role/DefaultPolicy/Resource", Rule: "AwsSolutions-IAM5", AppliesTo: asgArn(all...),
			Reason: "autoscaling:SetDesiredCapacity on this stage's fleet groups only: " + uuid},
		base.Suppression{Path: reaperFunctionID + "Role/DefaultPolicy/Resource", Rule: "AwsSolutions-IAM5", AppliesTo: []string{"Resource::*"},
			Reason: describe + "cloudwatch:GetMetricData has no resource-level permissions (read-only)."},
		base.Suppression{Path: reaperFunctionID + "Role/DefaultPolicy/Resource", Rule: "AwsSolutions-IAM5", AppliesTo: asgArn(all...),
			Reason: "autoscaling:SetInstanceProtection (clearing stale protection) on this stage's fleet groups only: " + uuid},
		base.Suppression{Path: reaperFunctionID + "Role/DefaultPolicy/Resource", Rule: "AwsSolutions-IAM5", AppliesTo: []string{"Action::kms:GenerateDataKey*"},
			Reason: "Publishing to the KMS-encrypted alerts topic needs the kms:GenerateDataKey* family; the grant is on the alerts topic's key only (CDK Topic.grantPublish)."},
		base.Suppression{Path: protectionReleaseFunction + "Role/DefaultPolicy/Resource", Rule: "AwsSolutions-IAM5", AppliesTo: []string{"Resource::*"},
			Reason: describe + "Its write action is scoped to the fleets' groups."},
		base.Suppression{Path: protectionReleaseFunction + "Role/DefaultPolicy/Resource", Rule: "AwsSolutions-IAM5", AppliesTo: asgArn(all...),
			Reason: "autoscaling:SetInstanceProtection (cleared only on stack deletion) on this stage's fleet groups only: " + uuid},
	)
}

// nagAsgArns are the fleets' ASG ARNs (fleetAsgArns) as cdk-nag's AppliesTo
// spells them.
func nagAsgArns(cfg config.Stage, names naming.Names, slugs ...string) []string {
	var out []string
	for _, s := range slugs {
		out = append(out, "Resource::arn:<AWS::Partition>:autoscaling:"+cfg.Region+":"+cfg.Account+":autoScalingGroup:*:autoScalingGroupName/"+names.FleetAsg(s))
	}
	return out
}
