package gpufleet

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
)

// asgArn is the ARN pattern of one fleet ASG of this account and region:
// arn:<partition>:autoscaling:<region>:<account>:autoScalingGroup:*:autoScalingGroupName/<name>.
// The * is the group's id, random and unknown at synth; the name is unique
// per account and region, so the pattern names exactly one group.
func asgArn(stack awscdk.Stack, name string) *string {
	return stack.FormatArn(&awscdk.ArnComponents{
		Service: jsii.String("autoscaling"), Resource: jsii.String("autoScalingGroup"),
		ResourceName: jsii.String("*:autoScalingGroupName/" + name), ArnFormat: awscdk.ArnFormat_COLON_RESOURCE_NAME,
	})
}

func asgArns(stack awscdk.Stack, fleets []Fleet) *[]*string {
	out := make([]*string, 0, len(fleets))
	for _, f := range fleets {
		out = append(out, asgArn(stack, f.AsgName))
	}
	return &out
}
