package gpufleet

import (
	"github.com/bp/infra/config"
	"github.com/bp/infra/naming"
	"github.com/bp/infra/stacks/base"
)

// capacitySuppressions are the reviewed cdk-nag exceptions of the On-Demand
// fallback and AMI refresh functions, only for a stage that builds them. The
// ASG ARNs in their policies end in the group's name; the * is the group's
// id, which is random (see fleetAsgArns).
func capacitySuppressions(cfg config.Stage, names naming.Names) []base.Suppression {
	arnsOf := func(pick func(config.Fleet) bool) []string {
		var slugs []string
		for _, f := range cfg.Fleets {
			if pick(f) {
				slugs = append(slugs, f.Slug)
			}
		}
		return nagAsgArns(cfg, names, slugs...)
	}
	fallback := func(f config.Fleet) bool { return f.OnDemandFallback.Enabled }
	byParameter := func(f config.Fleet) bool { return f.AmiID == "" && f.AmiParameter != "" }
	hasParameterFleet := func(s config.Stage) bool {
		for _, f := range s.Fleets {
			if byParameter(f) {
				return true
			}
		}
		return false
	}
	asgID := "The * in each ARN is the Auto Scaling group's id, random and unknown at synth; the ARN ends in the group's name, unique in the account and region, so each names exactly one of this stage's fleet groups, and a Stage tag condition applies too. "
	return []base.Suppression{
		{Path: spotFallbackFunctionID + "Role/DefaultPolicy/Resource", Rule: "AwsSolutions-IAM5", AppliesTo: []string{"Resource::*"}, When: HasSpotFallback,
			Reason: "Read-only calls without resource-level permissions: autoscaling:DescribeAutoScalingGroups, autoscaling:DescribeScalingActivities, cloudwatch:GetMetricData and ec2:DescribeInstances (to tell Spot from On-Demand instances)."},
		{Path: spotFallbackFunctionID + "Role/DefaultPolicy/Resource", Rule: "AwsSolutions-IAM5", AppliesTo: arnsOf(fallback), When: HasSpotFallback,
			Reason: asgID + "Writes: autoscaling:UpdateAutoScalingGroup (the On-Demand base capacity) and autoscaling:CreateOrUpdateTags limited by aws:TagKeys to the fallback's own state tag."},
		{Path: spotFallbackFunctionID + "Role/DefaultPolicy/Resource", Rule: "AwsSolutions-IAM5", AppliesTo: []string{"Action::kms:GenerateDataKey*"}, When: HasSpotFallback,
			Reason: "Publishing to the KMS-encrypted alerts topic needs the kms:GenerateDataKey* family; the grant is on the alerts topic's key only (CDK Topic.grantPublish)."},
		{Path: amiRefreshFunctionID + "Role/DefaultPolicy/Resource", Rule: "AwsSolutions-IAM5", AppliesTo: []string{"Resource::*"}, When: hasParameterFleet,
			Reason: "Read-only calls without resource-level permissions: autoscaling:DescribeAutoScalingGroups, autoscaling:DescribeInstanceRefreshes and ec2:DescribeInstances (each instance's ImageId)."},
		{Path: amiRefreshFunctionID + "Role/DefaultPolicy/Resource", Rule: "AwsSolutions-IAM5", AppliesTo: arnsOf(byParameter), When: hasParameterFleet,
			Reason: asgID + "The only write is autoscaling:StartInstanceRefresh, whose preferences wait for scale-in protected (busy) workers."},
	}
}
