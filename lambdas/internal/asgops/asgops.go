// Package asgops holds the Auto Scaling reads and writes that several Lambdas
// share: finding a group, checking its Stage tag and clearing scale-in
// protection in API-sized batches.
package asgops

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/bp/infra/bootcontract"
)

// MaxInstanceIDsPerCall is SetInstanceProtection's limit on InstanceIds.
const MaxInstanceIDsPerCall = 50

// Describer reads Auto Scaling groups.
type Describer interface {
	DescribeAutoScalingGroups(ctx context.Context, in *autoscaling.DescribeAutoScalingGroupsInput, optFns ...func(*autoscaling.Options)) (*autoscaling.DescribeAutoScalingGroupsOutput, error)
}

// Protector changes instance scale-in protection.
type Protector interface {
	SetInstanceProtection(ctx context.Context, in *autoscaling.SetInstanceProtectionInput, optFns ...func(*autoscaling.Options)) (*autoscaling.SetInstanceProtectionOutput, error)
}

// Describe returns the named group, or nil when it does not exist.
func Describe(ctx context.Context, api Describer, name string) (*types.AutoScalingGroup, error) {
	out, err := api.DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{
		AutoScalingGroupNames: []string{name},
	})
	if err != nil {
		return nil, fmt.Errorf("describe auto scaling group %s: %w", name, err)
	}
	for i := range out.AutoScalingGroups {
		if aws.ToString(out.AutoScalingGroups[i].AutoScalingGroupName) == name {
			return &out.AutoScalingGroups[i], nil
		}
	}
	return nil, nil
}

// Tag returns the value of the group's tag key.
func Tag(g *types.AutoScalingGroup, key string) (string, bool) {
	for _, t := range g.Tags {
		if aws.ToString(t.Key) == key {
			return aws.ToString(t.Value), true
		}
	}
	return "", false
}

// CheckStage fails unless the group carries tag Stage=stage, so a Lambda of
// one stage can never change another stage's fleet even if misconfigured.
func CheckStage(g *types.AutoScalingGroup, stage string) error {
	got, ok := Tag(g, bootcontract.TagStage)
	if !ok {
		return fmt.Errorf("auto scaling group %s has no Stage tag; refusing to touch it from stage %s", aws.ToString(g.AutoScalingGroupName), stage)
	}
	if got != stage {
		return fmt.Errorf("auto scaling group %s belongs to stage %q, not %q; refusing to touch it", aws.ToString(g.AutoScalingGroupName), got, stage)
	}
	return nil
}

// ProtectedInstances lists the ids of instances protected from scale-in.
// With inServiceOnly, instances that are pending, terminating or in standby
// are left out.
func ProtectedInstances(g *types.AutoScalingGroup, inServiceOnly bool) []string {
	var ids []string
	for _, in := range g.Instances {
		if !aws.ToBool(in.ProtectedFromScaleIn) {
			continue
		}
		if inServiceOnly && in.LifecycleState != types.LifecycleStateInService {
			continue
		}
		ids = append(ids, aws.ToString(in.InstanceId))
	}
	return ids
}

// ClearProtection removes scale-in protection from ids, 50 per call.
func ClearProtection(ctx context.Context, api Protector, asgName string, ids []string) error {
	for start := 0; start < len(ids); start += MaxInstanceIDsPerCall {
		batch := ids[start:min(start+MaxInstanceIDsPerCall, len(ids))]
		_, err := api.SetInstanceProtection(ctx, &autoscaling.SetInstanceProtectionInput{
			AutoScalingGroupName: aws.String(asgName),
			InstanceIds:          batch,
			ProtectedFromScaleIn: aws.Bool(false),
		})
		if err != nil {
			return fmt.Errorf("clear scale-in protection of %d instances in %s: %w", len(batch), asgName, err)
		}
	}
	return nil
}
