package gpufleet

import "github.com/bp/infra/stacks/base"

// suppressions are the GpuFleet stack's reviewed cdk-nag exceptions.
func suppressions() []base.Suppression {
	// Every per-fleet construct lives below "Fleets/<slug>"; the suppressions
	// below name that subtree because slugs come from config.
	const fleets = fleetsID
	describeStar := "autoscaling:DescribeAutoScalingGroups has no resource-level permissions, so it needs *. "
	tagged := "The write actions on * are limited by conditions to ASGs tagged Stage=<this stage> and FleetSlug in this stage's fleets (ASG ARNs carry a random id unknown at synth); the handler also checks the Stage tag before acting."
	return []base.Suppression{
		{Path: fleets, Rule: "AwsSolutions-IAM5", AppliesTo: []string{"Resource::*"},
			Reason: "GPU worker role: cloudwatch:PutMetricData has no resource-level permissions and is limited by condition to the stage's own worker namespace <app>/<stage>/gpu-worker (not the backend's ComfyUI/Workers); " +
				"autoscaling:SetInstanceProtection is limited to the fleet's own ASG by its Stage and FleetSlug tags (the ASG ARN carries a random id); " +
				"the Session Manager channel actions (ssm:UpdateInstanceInformation, ssmmessages:*Channel, ec2messages:*) support no resource scoping. No SSH."},
		{Path: fleets, Rule: "AwsSolutions-IAM5",
			AppliesTo: []string{"Resource::<ModelsBucketA3610ED4.Arn>/assets/*", "Resource::<ModelsBucketA3610ED4.Arn>/bundles/*"},
			Reason:    "GPU workers read (s3:GetObject only) the content-addressed model assets and bundle manifests of the models bucket; which objects a job needs is known only at run time. Nothing else in the bucket is readable."},
		{Path: fleets, Rule: "AwsSolutions-AS3",
			Reason: "Launch and terminate errors notify the alerts topic; routine launch/terminate events of a fleet that scales 0 -> N -> 0 all day would page people for nothing and are visible in the ASG activity history and group metrics."},
		{Path: fleets, Rule: "CdkNagValidationFailure", AppliesTo: []string{"AwsSolutions-EC26"},
			Reason: "EC26 cannot resolve the launch template of a mixed-instances ASG; the launch template's only volume is an encrypted gp3 root volume, asserted by TestGpuFleetLaunchTemplate."},
		{Path: scaleToZeroFunctionID + "Role/DefaultPolicy/Resource", Rule: "AwsSolutions-IAM5", AppliesTo: []string{"Resource::*"},
			Reason: describeStar + "autoscaling:SetDesiredCapacity: " + tagged},
		{Path: reaperFunctionID + "Role/DefaultPolicy/Resource", Rule: "AwsSolutions-IAM5", AppliesTo: []string{"Resource::*"},
			Reason: describeStar + "cloudwatch:GetMetricData has no resource-level permissions (read-only). autoscaling:SetInstanceProtection: " + tagged},
		{Path: reaperFunctionID + "Role/DefaultPolicy/Resource", Rule: "AwsSolutions-IAM5", AppliesTo: []string{"Action::kms:GenerateDataKey*"},
			Reason: "Publishing to the KMS-encrypted alerts topic needs the kms:GenerateDataKey* family; the grant is on the alerts topic's key only (CDK Topic.grantPublish)."},
		{Path: protectionReleaseFunction + "Role/DefaultPolicy/Resource", Rule: "AwsSolutions-IAM5", AppliesTo: []string{"Resource::*"},
			Reason: describeStar + "autoscaling:SetInstanceProtection (cleared only on stack deletion): " + tagged},
	}
}
