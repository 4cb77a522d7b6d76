package data

import (
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"
	"github.com/bp/infra/stacks/base"
)

// addAmiBuildProfile is the instance profile the AMI build instance
// (`make ami-build`, Packer's iam_instance_profile) runs with: it bakes the
// fleet's active model bundle, so it reads the pointer, the manifests and the
// assets of this stage's models bucket, and nothing else.
func addAmiBuildProfile(p Props, d *Data) {
	stack := d.Stack
	name := p.Names.Resource("ami-build")
	role := awsiam.NewRole(stack, jsii.String("AmiBuildRole"), &awsiam.RoleProps{
		RoleName:    jsii.String(name),
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("ec2.amazonaws.com"), nil),
		Description: jsii.String("GPU AMI build instance of " + p.Names.Prefix() + ": reads the models bucket's bundles and assets"),
	})
	role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings("s3:GetObject"),
		Resources: &[]*string{d.ModelsBucket.ArnForObjects(jsii.String("assets/*")), d.ModelsBucket.ArnForObjects(jsii.String("bundles/*"))},
	}))
	var pointers []*string
	for _, f := range p.Cfg.Fleets {
		pointers = append(pointers, base.SSMParameterArn(stack, p.Names.ActiveBundleParameter(f.Slug)))
	}
	role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions: jsii.Strings("ssm:GetParameter"), Resources: &pointers,
	}))
	awsiam.NewCfnInstanceProfile(stack, jsii.String("AmiBuildProfile"), &awsiam.CfnInstanceProfileProps{
		InstanceProfileName: jsii.String(name),
		Roles:               &[]interface{}{role.RoleName()},
	})
}
