// Package alerts is the stage's alerts path: one encrypted SNS topic that
// CloudWatch alarms, EventBridge rules, AWS Budgets and our own Lambdas publish
// to, with an optional email subscription.
package alerts

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssnssubscriptions"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// Props configure the alerts topic.
type Props struct {
	TopicName string
	Email     string // empty: no subscription (allowed outside production only)
}

// Alerts exposes the topic and its key to the stacks that publish.
type Alerts struct {
	Topic awssns.ITopic
	Key   awskms.IKey
}

// publishers are the AWS services that send alerts to the topic.
var publishers = []string{"cloudwatch.amazonaws.com", "events.amazonaws.com", "budgets.amazonaws.com"}

// New creates the topic, its customer-managed key and the publish grants.
func New(scope constructs.Construct, id string, p Props) Alerts {
	c := constructs.NewConstruct(scope, jsii.String(id))
	account := awscdk.Stack_Of(c).Account()
	key := awskms.NewKey(c, jsii.String("Key"), &awskms.KeyProps{
		Description:       jsii.String("Encrypts the " + p.TopicName + " topic"),
		EnableKeyRotation: jsii.Bool(true),
		RemovalPolicy:     awscdk.RemovalPolicy_DESTROY,
	})
	topic := awssns.NewTopic(c, jsii.String("Topic"), &awssns.TopicProps{
		TopicName:   jsii.String(p.TopicName),
		DisplayName: jsii.String(p.TopicName),
		MasterKey:   key,
		EnforceSSL:  jsii.Bool(true),
	})
	for _, svc := range publishers {
		principal := awsiam.NewServicePrincipal(jsii.String(svc), nil)
		// Only this account's alarms, rules and budgets may publish.
		cond := &map[string]interface{}{"StringEquals": map[string]interface{}{"aws:SourceAccount": account}}
		topic.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:        jsii.String("Publish" + sid(svc)),
			Principals: &[]awsiam.IPrincipal{principal},
			Actions:    jsii.Strings("sns:Publish"),
			Resources:  &[]*string{topic.TopicArn()},
			Conditions: cond,
		}))
		key.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:        jsii.String("Encrypt" + sid(svc)),
			Principals: &[]awsiam.IPrincipal{principal},
			Actions:    jsii.Strings("kms:Decrypt", "kms:GenerateDataKey*"),
			Resources:  jsii.Strings("*"),
			Conditions: cond,
		}), nil)
	}
	// EC2 Auto Scaling publishes launch errors with its service-linked role,
	// which needs the key too. Naming that role as a principal would fail in
	// an account where it does not exist yet, so match it by condition.
	key.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("EncryptAutoScalingNotifications"),
		Principals: &[]awsiam.IPrincipal{awsiam.NewAnyPrincipal()},
		Actions:    jsii.Strings("kms:Decrypt", "kms:GenerateDataKey*"),
		Resources:  jsii.Strings("*"),
		Conditions: &map[string]interface{}{"StringEquals": map[string]interface{}{
			"kms:CallerAccount": account,
			"aws:PrincipalArn": awscdk.Fn_Join(jsii.String(""), &[]*string{jsii.String("arn:"), awscdk.Aws_PARTITION(), jsii.String(":iam::"), account,
				jsii.String(":role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling")}),
		}},
	}), nil)
	if p.Email != "" {
		topic.AddSubscription(awssnssubscriptions.NewEmailSubscription(jsii.String(p.Email), nil))
	}
	return Alerts{Topic: topic, Key: key}
}

func sid(svc string) string {
	for i, r := range svc {
		if r == '.' {
			return string(svc[0]-'a'+'A') + svc[1:i]
		}
	}
	return svc
}
