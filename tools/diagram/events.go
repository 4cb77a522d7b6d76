package main

import (
	"fmt"
	"strings"

	"github.com/bp/infra/internal/cfn"
)

// events draws invocations and notifications: alarm actions, EventBridge
// rules, SNS subscriptions, Lambda permissions, custom resources, budget
// and ASG notifications, scheduled scaling, and log delivery to buckets.
func (b *builder) events() {
	idx := b.idx
	idx.each(func(k nodeKey, r cfn.Resource) {
		p := r.Properties
		switch r.Type {
		case "AWS::CloudWatch::Alarm", "AWS::CloudWatch::CompositeAlarm":
			b.alarmActions(k, p)
		case "AWS::Events::Rule":
			b.ruleFlows(k, p)
		case "AWS::SNS::Subscription":
			for _, topic := range b.nodesOf(k.stack, p["TopicArn"]) {
				b.subscription(k.stack, topic, p)
			}
		case "AWS::SNS::Topic":
			for _, s := range list(p["Subscription"]) {
				m, _ := s.(map[string]any)
				b.subscription(k.stack, b.node(k), m)
			}
		case "AWS::Lambda::Permission":
			for _, fn := range b.nodesOf(k.stack, p["FunctionName"]) {
				for _, src := range b.nodesOf(k.stack, p["SourceArn"]) {
					b.event(src, fn, "invoke")
				}
			}
		case "AWS::CloudFormation::CustomResource":
			b.customResource(k, r)
		case "AWS::Budgets::Budget":
			for _, n := range list(p["NotificationsWithSubscribers"]) {
				for _, s := range list(dig(n, "Subscribers")) {
					switch dig(s, "SubscriptionType") {
					case "SNS":
						for _, topic := range b.nodesOf(k.stack, dig(s, "Address")) {
							b.event(b.node(k), topic, "notify")
						}
					case "EMAIL":
						if addr, ok := dig(s, "Address").(string); ok {
							b.event(b.node(k), b.outside(kindEmail, addr), "email")
						}
					}
				}
			}
		case "AWS::AutoScaling::AutoScalingGroup":
			for _, n := range append(list(p["NotificationConfigurations"]), list(p["NotificationConfiguration"])...) {
				var types []string
				for _, t := range list(dig(n, "NotificationTypes")) {
					if s, ok := t.(string); ok {
						types = append(types, strings.ReplaceAll(strings.ToLower(strings.TrimPrefix(s, "autoscaling:EC2_INSTANCE_")), "_", " "))
					}
				}
				for _, topic := range b.nodesOf(k.stack, dig(n, "TopicARN")) {
					b.event(b.node(k), topic, strings.Join(types, ", "))
				}
			}
		case "AWS::AutoScaling::ScheduledAction":
			var what []string
			for _, f := range []struct{ prop, name string }{{"DesiredCapacity", "desired"}, {"MinSize", "min"}, {"MaxSize", "max"}} {
				if n := portNumber(p[f.prop]); n >= 0 {
					what = append(what, fmt.Sprintf("%s %d", f.name, n))
				}
			}
			for _, asg := range b.nodesOf(k.stack, p["AutoScalingGroupName"]) {
				b.event(b.node(k), asg, strings.Join(what, ", "))
			}
		case "AWS::S3::Bucket":
			b.bucketFlows(k, p)
		case "AWS::ElasticLoadBalancingV2::LoadBalancer":
			attrs := map[string]any{}
			for _, a := range list(p["LoadBalancerAttributes"]) {
				if key, ok := dig(a, "Key").(string); ok {
					attrs[key] = dig(a, "Value")
				}
			}
			if attrs["access_logs.s3.enabled"] == "true" {
				for _, bucket := range b.nodesOf(k.stack, attrs["access_logs.s3.bucket"]) {
					b.access(b.node(k), bucket, "access logs")
				}
			}
		case "AWS::CloudFront::Distribution":
			for _, bucket := range b.nodesOf(k.stack, dig(p, "DistributionConfig", "Logging", "Bucket")) {
				b.access(b.node(k), bucket, "access logs")
			}
		default:
			if strings.HasPrefix(r.Type, "Custom::") {
				b.customResource(k, r)
			}
		}
	})
}

// alarmActions draws a stack's alarms node to what its alarms trigger: an
// SNS topic, or through a scaling policy the ASG or ECS service it scales.
func (b *builder) alarmActions(k nodeKey, p map[string]any) {
	from := b.node(k)
	for _, prop := range []string{"AlarmActions", "OKActions", "InsufficientDataActions"} {
		for _, t := range b.idx.keys(k.stack, p[prop]) {
			r, ok := b.idx.resource(t)
			if !ok {
				continue
			}
			switch r.Type {
			case "AWS::SNS::Topic":
				b.event(from, b.node(t), "notify")
			case "AWS::AutoScaling::ScalingPolicy":
				for _, asg := range b.nodesOf(t.stack, r.Properties["AutoScalingGroupName"]) {
					b.event(from, asg, "scaling policy")
				}
			case "AWS::ApplicationAutoScaling::ScalingPolicy":
				for _, st := range b.idx.keys(t.stack, r.Properties["ScalingTargetId"]) {
					if target, ok := b.idx.resource(st); ok {
						for _, svc := range b.nodesOf(st.stack, target.Properties["ResourceId"]) {
							if b.nodes[svc].Kind == kindECS.name {
								b.event(from, svc, "scaling policy")
							}
						}
					}
				}
			}
		}
	}
}

// ruleFlows draws an EventBridge rule to its targets, and from the ASG
// whose events its pattern matches by name.
func (b *builder) ruleFlows(k nodeKey, p map[string]any) {
	rule := b.node(k)
	for _, t := range list(p["Targets"]) {
		for _, to := range b.nodesOf(k.stack, dig(t, "Arn")) {
			b.event(rule, to, targetVerb(b.nodes[to].Kind))
		}
	}
	pattern := dig(p, "EventPattern")
	var detail []string
	for _, d := range list(dig(pattern, "detail-type")) {
		if s, ok := d.(string); ok {
			detail = append(detail, s)
		}
	}
	for _, name := range list(dig(pattern, "detail", "AutoScalingGroupName")) {
		b.idx.each(func(a nodeKey, r cfn.Resource) {
			if n, ok := name.(string); ok && str(r.Properties, "AutoScalingGroupName") == n {
				b.event(b.node(a), rule, strings.Join(detail, ", "))
			}
		}, "AWS::AutoScaling::AutoScalingGroup")
	}
}

func targetVerb(kind string) string {
	switch kind {
	case kindSNS.name:
		return "notify"
	case kindSQS.name:
		return "send"
	}
	return "invoke"
}

// subscription draws an SNS topic to a subscribed Lambda, queue or email.
func (b *builder) subscription(stack, topic string, p map[string]any) {
	switch strings.ToLower(str(p, "Protocol")) {
	case "lambda":
		for _, fn := range b.nodesOf(stack, p["Endpoint"]) {
			b.event(topic, fn, "invoke")
		}
	case "sqs":
		for _, q := range b.nodesOf(stack, p["Endpoint"]) {
			b.event(topic, q, "send")
		}
	case "email", "email-json":
		if addr := str(p, "Endpoint"); addr != "" {
			b.event(topic, b.outside(kindEmail, addr), "email")
		}
	}
}

// customResource draws CloudFormation invoking the Lambda behind a custom
// resource's ServiceToken on deploy (CDK's own helper Lambdas are not drawn).
func (b *builder) customResource(k nodeKey, r cfn.Resource) {
	for _, fn := range b.nodesOf(k.stack, r.Properties["ServiceToken"]) {
		b.event(b.outside(kindCloudFormation, kindCloudFormation.label), fn, "custom resource "+strings.TrimPrefix(r.Type, "Custom::"))
	}
}

// bucketFlows draws a bucket's server access logs and event notifications.
func (b *builder) bucketFlows(k nodeKey, p map[string]any) {
	from := b.node(k)
	for _, logs := range b.nodesOf(k.stack, dig(p, "LoggingConfiguration", "DestinationBucketName")) {
		b.access(from, logs, "access logs")
	}
	for _, c := range []struct{ list, target string }{
		{"LambdaConfigurations", "Function"}, {"TopicConfigurations", "Topic"}, {"QueueConfigurations", "Queue"},
	} {
		for _, n := range list(dig(p, "NotificationConfiguration", c.list)) {
			what, _ := dig(n, "Event").(string)
			for _, to := range b.nodesOf(k.stack, dig(n, c.target)) {
				b.event(from, to, what)
			}
		}
	}
}
