package observability

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsbudgets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/constructs-go/constructs/v10"

	"github.com/bp/infra/config"
	"github.com/bp/infra/constructs/alarms"
	"github.com/bp/infra/naming"
	"github.com/bp/infra/stacks/base"
	"github.com/bp/infra/stacks/compute"
	"github.com/bp/infra/stacks/data"
	"github.com/bp/infra/stacks/gpufleet"
	"github.com/bp/infra/stacks/network"
)

// Props configure the Observability stack; it reads every other
// stack and nothing reads it, so it deploys last.
type Props struct {
	Cfg      config.Stage
	Names    naming.Names
	Net      network.Network
	Data     data.Data
	Compute  compute.Compute
	GpuFleet gpufleet.GpuFleet
}

// Observability holds the stage's alarms, dashboard and budget. Alerts go to
// the Network stack's topic, so this stack only reads the others.
type Observability struct {
	Stack     awscdk.Stack
	Alarms    []awscloudwatch.Alarm
	Dashboard awscloudwatch.Dashboard
	Budget    awsbudgets.CfnBudget
}

// New builds the Observability stack.
func New(scope constructs.Construct, p Props) Observability {
	stack := base.NewStack(scope, p.Cfg, p.Names, naming.Observability, "alarms, dashboard and budget")
	// Deploy order network -> data -> compute -> gpu-fleet -> observability,
	// also for the stacks this one only reads by name.
	for _, other := range []awscdk.Stack{p.Net.Stack, p.Data.Stack, p.Compute.Stack, p.GpuFleet.Stack} {
		stack.AddStackDependency(other, nil)
	}
	o := &obs{stack: stack, p: p, notify: alarms.Notifier{Topic: p.Net.AlertsTopic}, a: p.Cfg.Alarms}
	o.webAlarms()
	o.dataAlarms()
	o.fleetAlarms()
	o.costAlarms()
	out := Observability{Stack: stack, Alarms: o.alarms}
	o.launchFailureRule()
	out.Dashboard = o.dashboard()
	out.Budget = o.budget()
	base.Finish(stack, p.Cfg, p.Names, nil) // no exceptions
	return out
}

// obs carries what every part of the stack needs while it is built.
type obs struct {
	stack    awscdk.Stack
	p        Props
	notify   alarms.Notifier
	a        config.Alarms
	alarms   []awscloudwatch.Alarm
	imported []awscloudwatch.IAlarm // alarms of other stacks, by name (otherStacksAlarms)
}

// alarm adds one stage-scoped alarm; id doubles as the name suffix.
func (o *obs) alarm(id string, s alarms.Spec) awscloudwatch.Alarm {
	s.Name = o.p.Names.Alarm(id)
	al := o.notify.New(o.stack, "Alarm-"+id, s)
	o.alarms = append(o.alarms, al)
	return al
}
