package base

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
)

// CfnOfType returns c as a CfnResource when it is one of CloudFormation type
// typ; generated says whether c is of typ's generated class (a type assertion,
// e.g. to awslambda.CfnFunction).
//
// Every question to a construct is a round trip to node through jsii, and the
// tree walks over a stack ask about hundreds of constructs. jsii hands back a
// proxy of the object's class, so Go type assertions answer most of it: not a
// CfnResource at all; typ's generated class; another generated class (they
// all implement IInspectable, and their type is their class's). Only a plain
// CfnResource (CDK's custom-resource providers build their handler and role
// from one) is asked for its type.
func CfnOfType(c constructs.IConstruct, typ string, generated bool) (awscdk.CfnResource, bool) {
	res, ok := c.(awscdk.CfnResource)
	switch {
	case !ok:
		return nil, false
	case generated:
		return res, true
	}
	if _, otherClass := c.(awscdk.IInspectable); otherClass {
		return nil, false
	}
	return res, *res.CfnResourceType() == typ
}
