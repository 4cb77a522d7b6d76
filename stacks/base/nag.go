package base

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/bp/infra/config"
)

// Suppression is one reviewed exception to an AwsSolutions rule, on one
// construct path below a stack. Every entry says why it is safe. The JSON
// names are those of the stack's SuppressionsMetadata list.
type Suppression struct {
	Path      string                  `json:"path"` // construct path below the stack
	Rule      string                  `json:"rule"`
	Reason    string                  `json:"reason"`
	AppliesTo []string                `json:"applies_to,omitempty"`
	When      func(config.Stage) bool `json:"-"` // nil: always
}

// LambdaInVpc covers a Go function of constructs/gofunction placed in the VPC.
func LambdaInVpc(id string) Suppression {
	return Suppression{Path: id + "Role/DefaultPolicy/Resource", Rule: "AwsSolutions-IAM5", AppliesTo: []string{"Resource::*"},
		Reason: "Only the Lambda VPC ENI actions (ec2:Create/Describe/DeleteNetworkInterface, Assign/UnassignPrivateIpAddresses) use *: EC2 offers no resource-level permissions for them."}
}

// SuppressionsMetadata is the type of the stack's construct metadata entry
// (in the cloud assembly) that lists the suppressions applySuppressions
// attached, as JSON Suppression values, so a reviewer or test sees them for
// every stack without cdk-nag's per-resource view.
const SuppressionsMetadata = "bp:nag-suppressions"

// applySuppressions attaches the suppressions of a stack this stage applies
// and lists them in the stack's metadata. A path that no longer exists fails synthesis;
// one that names no resource, or a resource without the finding, fails
// test/ (TestEverySuppressionLandsOnItsResource,
// TestSuppressionsSitOnTheResourcesTheySilence), so stale entries cannot
// linger. Each lands on one resource only (applyToChildren false): cdk-nag
// matches "X/Resource" to the construct X as well (child.node.path +
// '/Resource' === path, in NagSuppressions.addResourceSuppressionsByPath), so
// with children applied a suppression meant for X's resource also covered
// everything below X.
func applySuppressions(stack awscdk.Stack, cfg config.Stage, suppressions []Suppression) {
	stackPath := "/" + *stack.Node().Path() // one jsii round trip per stack, not per suppression
	var applied []Suppression
	for _, sup := range suppressions {
		if sup.When != nil && !sup.When(cfg) {
			continue
		}
		applied = append(applied, sup)
		entry := &cdknag.NagPackSuppression{Id: jsii.String(sup.Rule), Reason: jsii.String(sup.Reason)}
		if len(sup.AppliesTo) > 0 {
			applies := make([]interface{}, len(sup.AppliesTo))
			for i, a := range sup.AppliesTo {
				applies[i] = a
			}
			entry.AppliesTo = &applies
		}
		cdknag.NagSuppressions_AddResourceSuppressionsByPath(stack, jsii.String(stackPath+"/"+sup.Path),
			&[]*cdknag.NagPackSuppression{entry}, jsii.Bool(false)) // not to children
	}
	if len(applied) > 0 {
		stack.Node().AddMetadata(jsii.String(SuppressionsMetadata), applied, nil)
	}
}
