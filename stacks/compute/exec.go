package compute

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/jsii-runtime-go"

	"github.com/bp/infra/stacks/base"
)

// execConfiguration logs every ECS Exec session (cluster.execEnabled) to the
// stage's exec log group, and encrypts the session's data channel and the
// log group with one customer-managed key. CDK then grants the task roles
// what the agent needs to write there. Nil when exec is off.
func execConfiguration(stack awscdk.Stack, p Props) *awsecs.ExecuteCommandConfiguration {
	if !p.Cfg.Cluster.ExecEnabled {
		return nil
	}
	name := p.Names.LogGroup("ecs/exec-sessions")
	removal := awscdk.RemovalPolicy_DESTROY
	if p.Cfg.IsProduction() {
		removal = awscdk.RemovalPolicy_RETAIN // the session logs stay readable
	}
	key := awskms.NewKey(stack, jsii.String("ExecKey"), &awskms.KeyProps{
		Description:       jsii.String("Encrypts ECS Exec sessions of " + p.Names.Cluster() + " and their log group " + name),
		EnableKeyRotation: jsii.Bool(true),
		RemovalPolicy:     removal,
	})
	// CloudWatch Logs encrypts the group with the key only if the key policy
	// lets it (CloudWatch Logs User Guide, "Encrypt log data in CloudWatch
	// Logs using AWS KMS"), limited to this group by encryption context.
	logs := awsiam.NewServicePrincipal(jsii.String("logs."+p.Cfg.Region+".amazonaws.com"), nil)
	key.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("CloudWatchLogsExecSessions"),
		Principals: &[]awsiam.IPrincipal{logs},
		Actions:    jsii.Strings("kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"),
		Resources:  jsii.Strings("*"),
		Conditions: &map[string]interface{}{"ArnEquals": map[string]interface{}{
			"kms:EncryptionContext:aws:logs:arn": stack.FormatArn(&awscdk.ArnComponents{
				Service: jsii.String("logs"), Resource: jsii.String("log-group"), ResourceName: jsii.String(name), ArnFormat: awscdk.ArnFormat_COLON_RESOURCE_NAME,
			}),
		}},
	}), nil)
	group := awslogs.NewLogGroup(stack, jsii.String("ExecSessionLogs"), &awslogs.LogGroupProps{
		LogGroupName:  jsii.String(name),
		Retention:     base.Retention(p.Cfg.LogRetentionDays),
		EncryptionKey: key,
		RemovalPolicy: removal,
	})
	return &awsecs.ExecuteCommandConfiguration{
		KmsKey:  key,
		Logging: awsecs.ExecuteCommandLogging_OVERRIDE,
		LogConfiguration: &awsecs.ExecuteCommandLogConfiguration{
			CloudWatchLogGroup:          group,
			CloudWatchEncryptionEnabled: jsii.Bool(true),
		},
	}
}
