package stacks

import (
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// stageLogGroups names every log group of the stage's other stacks: the
// explicit AWS::Logs::LogGroup resources, plus the group applyLogRetention
// gives each Lambda function without one (it runs after the stacks are built,
// so those names are derived here the same way; a test checks that every log
// group of every template is covered).
func (o *obs) stageLogGroups() []*string {
	var out []*string
	seen := map[string]bool{}
	add := func(name *string) {
		if !*awscdk.Token_IsUnresolved(name) {
			if seen[*name] {
				return
			}
			seen[*name] = true
		}
		out = append(out, name)
	}
	for _, stack := range []awscdk.Stack{o.p.Net.Stack, o.p.Data.Stack, o.p.Compute.Stack, o.p.GpuFleet.Stack} {
		for _, c := range *stack.Node().FindAll(constructs.ConstructOrder_PREORDER) {
			if !*awscdk.CfnResource_IsCfnResource(c) {
				continue
			}
			switch *c.(awscdk.CfnResource).CfnResourceType() {
			case "AWS::Logs::LogGroup":
				g := c.(awslogs.CfnLogGroup)
				name := g.LogGroupName()
				if name == nil || *awscdk.Token_IsUnresolved(name) {
					name = g.Ref() // a generated name, read from the other stack
				}
				add(name)
			case "AWS::Lambda::Function":
				if fn, ok := c.(awslambda.CfnFunction); ok && fn.LoggingConfig() != nil {
					continue // its group is an explicit LogGroup above
				}
				rel := strings.TrimPrefix(*c.Node().Path(), *stack.Node().Path()+"/")
				slug := strings.Trim(nonSlug.ReplaceAllString(strings.ToLower(rel), "-"), "-")
				add(jsii.String(o.p.Names.LogGroup("lambda/" + *stack.Node().Id() + "/" + slug)))
			}
		}
	}
	return out
}
