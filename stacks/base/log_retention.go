package base

import (
	"regexp"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/bp/infra/naming"
)

var nonSlug = regexp.MustCompile(`[^a-z0-9]+`)

// applyLogRetention gives every Lambda function of the stack that has no log
// group of its own (CDK's internal custom-resource providers) an explicit log
// group with the stage's retention, so no log group is created implicitly
// without one.
func applyLogRetention(stack awscdk.Stack, days int, names naming.Names) {
	for _, c := range *stack.Node().FindAll(constructs.ConstructOrder_PREORDER) {
		fn, generated := c.(awslambda.CfnFunction)
		res, ok := CfnOfType(c, "AWS::Lambda::Function", generated)
		if !ok || generated && fn.LoggingConfig() != nil {
			continue
		}
		rel := strings.TrimPrefix(*c.Node().Path(), *stack.Node().Path()+"/")
		slug := strings.Trim(nonSlug.ReplaceAllString(strings.ToLower(rel), "-"), "-")
		group := LogGroup(stack, "LogGroup-"+slug, names.LogGroup("lambda/"+*stack.Node().Id()+"/"+slug), days)
		// A Ref, so CloudFormation creates the group before the function.
		res.AddPropertyOverride(jsii.String("LoggingConfig.LogGroup"), group.LogGroupName())
	}
}
