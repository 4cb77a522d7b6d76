package protection

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
)

// ASGAPI is the one Auto Scaling call the worker makes.
type ASGAPI interface {
	SetInstanceProtection(ctx context.Context, in *autoscaling.SetInstanceProtectionInput,
		opts ...func(*autoscaling.Options)) (*autoscaling.SetInstanceProtectionOutput, error)
}

// ASG sets protection on one instance of one Auto Scaling group.
type ASG struct {
	API        ASGAPI
	GroupName  string
	InstanceID string
}

// SetProtected calls SetInstanceProtection for this instance.
func (a ASG) SetProtected(ctx context.Context, protected bool) error {
	_, err := a.API.SetInstanceProtection(ctx, &autoscaling.SetInstanceProtectionInput{
		AutoScalingGroupName: aws.String(a.GroupName),
		InstanceIds:          []string{a.InstanceID},
		ProtectedFromScaleIn: aws.Bool(protected),
	})
	if err != nil {
		return fmt.Errorf("autoscaling SetInstanceProtection(%s, %s, %v): %w", a.GroupName, a.InstanceID, protected, err)
	}
	return nil
}
