// Package topic is an encrypted SNS topic that AWS services publish to: its
// own customer-managed key, SSL-only, and for each publishing service exactly
// the topic and key statements that service's documentation gives.
package topic

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssnssubscriptions"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// Publisher is an AWS service that publishes to the topic, with what its own
// documentation says its requests carry.
type Publisher struct {
	Service string
	// SourceAccount: the service's Publish requests carry aws:SourceAccount, so
	// the topic policy can be limited to this account's resources.
	SourceAccount bool
}

// The services our stacks let publish.
var (
	// CloudWatchAlarms: the CloudWatch guide limits alarm publishing with
	// aws:SourceAccount (and aws:SourceArn) in the topic policy.
	CloudWatchAlarms = Publisher{Service: "cloudwatch.amazonaws.com", SourceAccount: true}
	// EventBridge: "You can't use Condition blocks in Amazon SNS topic
	// policies for EventBridge" (EventBridge User Guide, Amazon SNS permissions).
	EventBridge = Publisher{Service: "events.amazonaws.com"}
	// Budgets: the AWS Budgets guide gives its topic and key statements
	// without conditions.
	Budgets = Publisher{Service: "budgets.amazonaws.com"}
)

// Props configure a topic.
type Props struct {
	Name       string
	Publishers []Publisher
	// AutoScalingNotifications lets EC2 Auto Scaling's service-linked role
	// use the key (ASG launch/terminate error notifications).
	AutoScalingNotifications bool
	Email                    string // empty: no subscription
	// SharedKey encrypts the topic with another topic's key (one key less,
	// $1/month) instead of its own; that key's policy must already let
	// these Publishers use it (the alerts topic's key does for CloudWatch).
	SharedKey awskms.IKey
}

// Topic exposes the topic and its key to the stacks that publish.
type Topic struct {
	Topic awssns.ITopic
	Key   awskms.IKey
}

// New creates the topic, its key and the publish grants below id.
func New(scope constructs.Construct, id string, p Props) Topic {
	c := constructs.NewConstruct(scope, jsii.String(id))
	account := awscdk.Stack_Of(c).Account()
	key := p.SharedKey
	if key == nil {
		key = awskms.NewKey(c, jsii.String("Key"), &awskms.KeyProps{
			Description:       jsii.String("Encrypts the " + p.Name + " topic"),
			EnableKeyRotation: jsii.Bool(true),
			RemovalPolicy:     awscdk.RemovalPolicy_DESTROY, // in-flight messages only
		})
	}
	topic := awssns.NewTopic(c, jsii.String("Topic"), &awssns.TopicProps{
		TopicName:   jsii.String(p.Name),
		DisplayName: jsii.String(p.Name),
		MasterKey:   key,
		EnforceSSL:  jsii.Bool(true),
	})
	for _, pub := range p.Publishers {
		principal := awsiam.NewServicePrincipal(jsii.String(pub.Service), nil)
		var cond *map[string]interface{}
		if pub.SourceAccount {
			cond = &map[string]interface{}{"StringEquals": map[string]interface{}{"aws:SourceAccount": account}}
		}
		topic.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:        jsii.String("Publish" + sid(pub.Service)),
			Principals: &[]awsiam.IPrincipal{principal},
			Actions:    jsii.Strings("sns:Publish"),
			Resources:  &[]*string{topic.TopicArn()},
			Conditions: cond,
		}))
		if p.SharedKey != nil {
			continue // the key's own topic granted it
		}
		// The key statement the SNS guide gives for AWS event sources ("Enable
		// compatibility between event sources from AWS services and encrypted
		// topics"): no conditions, which the KMS calls SNS makes for
		// EventBridge do not carry. The topic policy above is the gate.
		key.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:        jsii.String("Encrypt" + sid(pub.Service)),
			Principals: &[]awsiam.IPrincipal{principal},
			Actions:    jsii.Strings("kms:Decrypt", "kms:GenerateDataKey*"),
			Resources:  jsii.Strings("*"),
		}), nil)
	}
	if p.AutoScalingNotifications && p.SharedKey == nil {
		// EC2 Auto Scaling publishes with its service-linked role, which the
		// key policy must name (SNS guide: "Some Amazon SNS event sources
		// require you to provide an IAM role"). Naming that role as a principal
		// would fail in an account where it does not exist yet, so match it
		// by condition. Its own policy grants sns:Publish.
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
	}
	if p.Email != "" {
		topic.AddSubscription(awssnssubscriptions.NewEmailSubscription(jsii.String(p.Email), nil))
	}
	return Topic{Topic: topic, Key: key}
}

// sid turns "cloudwatch.amazonaws.com" into "Cloudwatch".
func sid(svc string) string {
	for i, r := range svc {
		if r == '.' {
			return string(svc[0]-'a'+'A') + svc[1:i]
		}
	}
	return svc
}
