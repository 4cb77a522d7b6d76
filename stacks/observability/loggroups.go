package observability

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/constructs-go/constructs/v10"

	"github.com/bp/infra/stacks/base"
)

// stageLogGroups names every log group of the stage's other stacks. Each
// stack is finished before Observability is built, so the groups
// applyLogRetention gives CDK's own Lambdas are already AWS::Logs::LogGroup
// resources here (a test checks that every log group of every template is covered).
func (o *obs) stageLogGroups() []*string {
	var out []*string
	seen := map[string]bool{}
	for _, stack := range []awscdk.Stack{o.p.Net.Stack, o.p.Data.Stack, o.p.Compute.Stack, o.p.GpuFleet.Stack} {
		for _, c := range *stack.Node().FindAll(constructs.ConstructOrder_PREORDER) {
			g, generated := c.(awslogs.CfnLogGroup)
			if _, ok := base.CfnOfType(c, "AWS::Logs::LogGroup", generated); !ok {
				continue
			}
			name := g.LogGroupName()
			if name == nil || *awscdk.Token_IsUnresolved(name) {
				out = append(out, g.Ref()) // a generated name, read from the other stack
				continue
			}
			if !seen[*name] {
				seen[*name] = true
				out = append(out, name)
			}
		}
	}
	return out
}
