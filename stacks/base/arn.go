package base

import (
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// SSMParameterArn is the ARN of an SSM parameter of the scope's account and
// region: arn:<partition>:ssm:<region>:<account>:parameter/<name without its
// leading slash> (a "*" in name matches any value of that part).
func SSMParameterArn(scope constructs.Construct, name string) *string {
	return awscdk.Stack_Of(scope).FormatArn(&awscdk.ArnComponents{
		Service: jsii.String("ssm"), Resource: jsii.String("parameter"), ResourceName: jsii.String(strings.TrimPrefix(name, "/")),
	})
}
