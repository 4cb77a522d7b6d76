package gofunction

import (
	"path/filepath"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3assets"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/bp/infra/internal/lambdabuild"
	"github.com/bp/infra/internal/modroot"
)

// Props describe one Go Lambda function.
type Props struct {
	// Package is the module-relative Go package, e.g. "lambdas/cmd/dbinit".
	Package      string
	FunctionName string
	Description  string
	Environment  map[string]string
	Timeout      awscdk.Duration
	MemoryMiB    int
	// LogRetention is the retention of the function's log group
	// /aws/lambda/<FunctionName>, which New creates; the role may write there only.
	LogRetention awslogs.RetentionDays
	// Vpc, Subnets and SecurityGroup place the function in the VPC (optional).
	Vpc           awsec2.IVpc
	Subnets       *awsec2.SubnetSelection
	SecurityGroup awsec2.ISecurityGroup
}

// Function is a built Go Lambda with its execution role.
type Function struct {
	Function awslambda.Function
	Role     awsiam.IRole
}

// New compiles Props.Package at synth time and defines the function.
func New(scope constructs.Construct, id string, p Props) Function {
	root, err := modroot.Find()
	if err != nil {
		panic(err)
	}
	env := map[string]*string{}
	for k, v := range p.Environment {
		env[k] = jsii.String(v)
	}
	logs := awslogs.NewLogGroup(scope, jsii.String(id+"Logs"), &awslogs.LogGroupProps{
		LogGroupName:  jsii.String("/aws/lambda/" + p.FunctionName),
		Retention:     p.LogRetention,
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})
	role := newRole(scope, id, logs, p.Vpc != nil)
	props := &awslambda.FunctionProps{
		Role:          role,
		FunctionName:  jsii.String(p.FunctionName),
		Description:   jsii.String(p.Description),
		Runtime:       awslambda.Runtime_PROVIDED_AL2023(),
		Architecture:  lambdaArchitecture(lambdabuild.LambdaArchitecture),
		Handler:       jsii.String("bootstrap"),
		Timeout:       p.Timeout,
		MemorySize:    jsii.Number(float64(p.MemoryMiB)),
		Environment:   &env,
		LogGroup:      logs,
		LoggingFormat: awslambda.LoggingFormat_JSON,
		Code: awslambda.Code_FromAsset(jsii.String(filepath.Join(root, p.Package)), &awss3assets.AssetOptions{
			// Hash the binary, not the folder: the handler also compiles in
			// shared packages outside its own folder.
			AssetHashType: awscdk.AssetHashType_OUTPUT,
			Bundling: &awscdk.BundlingOptions{
				Image: awscdk.DockerImage_FromRegistry(jsii.String("local-go-build-only")),
				Local: &localGoBuild{moduleRoot: root, pkg: "./" + p.Package},
			},
		}),
	}
	if p.Vpc != nil {
		props.Vpc = p.Vpc
		props.VpcSubnets = p.Subnets
		props.SecurityGroups = &[]awsec2.ISecurityGroup{p.SecurityGroup}
		props.AllowPublicSubnet = jsii.Bool(false)
	}
	fn := awslambda.NewFunction(scope, jsii.String(id), props)
	return Function{Function: fn, Role: role}
}

// lambdaArchitecture is the CDK value of a Lambda architecture name
// (Lambda's Architectures are x86_64 and arm64).
func lambdaArchitecture(name string) awslambda.Architecture {
	switch name {
	case "arm64":
		return awslambda.Architecture_ARM_64()
	case "x86_64":
		return awslambda.Architecture_X86_64()
	}
	panic("no Lambda architecture is named " + name)
}
