package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"

	"github.com/bp/infra/config"
	"github.com/bp/infra/naming"
)

// ObservabilityProps configure the Observability stack; it reads every other
// stack and nothing reads it, so it deploys last.
type ObservabilityProps struct {
	Cfg      config.Stage
	Names    naming.Names
	Net      Network
	Data     Data
	Compute  Compute
	GpuFleet GpuFleet
}

// Observability holds the stage's alarms, dashboard and budget.
type Observability struct {
	Stack awscdk.Stack
}

// NewObservability builds the Observability stack.
func NewObservability(scope constructs.Construct, p ObservabilityProps) Observability {
	stack := newStack(scope, p.Cfg, p.Names, naming.Observability, "alarms, dashboard and budget")
	return Observability{Stack: stack}
}
