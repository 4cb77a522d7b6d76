package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsautoscaling"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/constructs-go/constructs/v10"

	"github.com/bp/infra/config"
	"github.com/bp/infra/naming"
)

// GpuFleetProps configure the GpuFleet stack.
type GpuFleetProps struct {
	Cfg   config.Stage
	Names naming.Names
	Net   Network
	Data  Data
}

// Fleet is one GPU fleet as other stacks see it.
type Fleet struct {
	Cfg     config.Fleet
	Asg     awsautoscaling.AutoScalingGroup
	AsgName string
}

// GpuFleet holds the stage's GPU fleets and their scale-to-zero path.
type GpuFleet struct {
	Stack            awscdk.Stack
	Fleets           []Fleet
	ScaleToZeroTopic awssns.ITopic
}

// NewGpuFleet builds the GpuFleet stack.
func NewGpuFleet(scope constructs.Construct, p GpuFleetProps) GpuFleet {
	stack := newStack(scope, p.Cfg, p.Names, naming.GpuFleet, "ComfyUI GPU worker fleets on Spot that scale 0 -> N -> 0")
	return GpuFleet{Stack: stack}
}
