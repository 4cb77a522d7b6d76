package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awselasticloadbalancingv2"
	"github.com/aws/constructs-go/constructs/v10"

	"github.com/bp/infra/config"
	"github.com/bp/infra/naming"
)

// ComputeProps configure the Compute stack.
type ComputeProps struct {
	Cfg   config.Stage
	Names naming.Names
	Net   Network
	Data  Data
}

// Compute is the ECS cluster, the backend and frontend services and the ALB.
type Compute struct {
	Stack    awscdk.Stack
	Cluster  awsecs.Cluster
	Backend  awsecs.FargateService
	Frontend awsecs.FargateService
	Alb      awselasticloadbalancingv2.ApplicationLoadBalancer
	// BackendTargets and FrontendTargets feed the target alarms.
	BackendTargets  awselasticloadbalancingv2.ApplicationTargetGroup
	FrontendTargets awselasticloadbalancingv2.ApplicationTargetGroup
}

// NewCompute builds the Compute stack.
func NewCompute(scope constructs.Construct, p ComputeProps) Compute {
	stack := newStack(scope, p.Cfg, p.Names, naming.Compute, "ECS cluster, backend and frontend services, HTTPS ALB")
	return Compute{Stack: stack}
}
