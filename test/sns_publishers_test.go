package test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// encryptedTopic is an SNS topic with its customer-managed key, and how the
// stage's templates refer to each (a Ref in its own stack, an import elsewhere).
type encryptedTopic struct {
	kind, topicID, keyID string
	topicRefs, keyRefs   []string // JSON forms that point at them
	topicPolicy, keyPol  []any
}

// publisherKind names who publishes, as the request its documentation
// describes: the condition keys the Publish call to SNS and the KMS calls SNS
// makes on the publisher's behalf carry.
type publisherKind struct {
	what       string
	publish    *request // nil: same-account IAM identity, its own policy decides
	encrypt    request
	identityOK func() bool // for IAM identities: their policy grants the key
}

// TestEveryPublisherCanUseItsEncryptedTopic finds every publisher of every
// encrypted topic in the stage (alarm actions, EventBridge targets, budget
// subscribers, ASG notifications, IAM grants) and evaluates the topic policy
// and the key policy for the request that publisher actually makes:
//   - CloudWatch alarms send aws:SourceAccount and aws:SourceArn with Publish
//     (CloudWatch User Guide, alarm actions to SNS);
//   - EventBridge sends none: "You can't use Condition blocks in Amazon SNS
//     topic policies for EventBridge" (EventBridge User Guide), and the SNS
//     guide documents aws:SourceAccount / aws:SourceArn as unsupported in the
//     key policy for EventBridge;
//   - AWS Budgets: its guide's topic and key statements carry no conditions,
//     so none are assumed;
//   - EC2 Auto Scaling uses its service-linked role, which the key policy must
//     name ("Some Amazon SNS event sources require you to provide an IAM role");
//   - our Lambdas use their roles' IAM grants on the topic and the key.
//
// For KMS, SNS's calls on behalf of a service carry no source keys (the SNS
// guide's statement for AWS event sources has no condition).
func TestEveryPublisherCanUseItsEncryptedTopic(t *testing.T) {
	for _, b := range all() {
		topics := encryptedTopics(t, b)
		if len(topics) < 2 {
			t.Fatalf("%s: found %d encrypted topics, want the alerts and scale-to-zero topics", b.label, len(topics))
		}
		for _, tp := range topics {
			kinds := map[string]int{}
			for _, pub := range publishersOf(t, b, tp) {
				kinds[strings.Fields(pub.what)[0]]++
				if pub.publish != nil && !allows(tp.topicPolicy, *pub.publish) {
					t.Errorf("%s: %s may not publish to %s/%s: topic policy denies %+v", b.label, pub.what, tp.kind, tp.topicID, *pub.publish)
				}
				for _, action := range []string{"kms:GenerateDataKey", "kms:Decrypt"} {
					req := pub.encrypt
					req.action = action
					if !allows(tp.keyPol, req) {
						t.Errorf("%s: %s cannot %s with the key of %s/%s: its messages are dropped (request %+v)", b.label, pub.what, action, tp.kind, tp.topicID, req)
					}
				}
				if pub.identityOK != nil && !pub.identityOK() {
					t.Errorf("%s: %s has no IAM grant of kms:GenerateDataKey* and kms:Decrypt on the key of %s/%s", b.label, pub.what, tp.kind, tp.topicID)
				}
			}
			if strings.HasPrefix(tp.topicID, "Alerts") {
				for _, want := range []string{"alarm", "rule", "budget", "asg", "role"} {
					if kinds[want] == 0 {
						t.Errorf("%s: no %s publishes to the alerts topic; the walk missed it or it is gone", b.label, want)
					}
				}
			}
			// Another account's alarm must not be let in.
			foreign := request{service: "cloudwatch.amazonaws.com", action: "sns:Publish",
				context: map[string]string{"aws:SourceAccount": "999999999999", "aws:SourceArn": "arn:aws:cloudwatch:us-east-1:999999999999:alarm:x"}}
			if allows(tp.topicPolicy, foreign) {
				t.Errorf("%s: %s/%s accepts alarms of any account", b.label, tp.kind, tp.topicID)
			}
		}
	}
}

func encryptedTopics(t *testing.T, b *built) []encryptedTopic {
	t.Helper()
	account := b.stage.Cfg.Account
	var out []encryptedTopic
	for kind, tpl := range b.templates {
		for _, topic := range tpl.Resources("AWS::SNS::Topic") {
			keyRef := topic.Props["KmsMasterKeyId"]
			if keyRef == nil {
				continue
			}
			keyKind, keyID := keyOf(b, kind, keyRef)
			tp := encryptedTopic{kind: kind, topicID: topic.LogicalID, keyID: keyID,
				topicRefs: refsTo(b, kind, `{"Ref":"`+topic.LogicalID+`"}`),
				keyRefs:   refsTo(b, keyKind, `{"Fn::GetAtt":["`+keyID+`","Arn"]}`)}
			for _, pol := range tpl.Resources("AWS::SNS::TopicPolicy") {
				if slices.Contains(tp.topicRefs, str(get(pol.Props, "Topics.0"))) {
					st, _ := resolvePolicy(get(pol.Props, "PolicyDocument.Statement"), account).([]any)
					tp.topicPolicy = append(tp.topicPolicy, st...)
				}
			}
			key := b.templates[keyKind].Resources("AWS::KMS::Key")
			for _, k := range key {
				if k.LogicalID == keyID {
					tp.keyPol, _ = resolvePolicy(get(k.Props, "KeyPolicy.Statement"), account).([]any)
				}
			}
			if tp.keyPol == nil || tp.topicPolicy == nil {
				t.Fatalf("%s/%s: topic %s has key %s policy %v, topic policy %v", b.label, kind, topic.LogicalID, keyID, tp.keyPol != nil, tp.topicPolicy != nil)
			}
			out = append(out, tp)
		}
	}
	return out
}

// refsTo lists the JSON forms by which a value of stack kind is referred to:
// itself, and the imports of any output that exports it.
func refsTo(b *built, kind, value string) []string {
	out := []string{value}
	outputs, _ := b.templates[kind]["Outputs"].(map[string]any)
	for _, o := range outputs {
		if str(get(o, "Value")) == value && get(o, "Export.Name") != nil {
			out = append(out, `{"Fn::ImportValue":"`+str(get(o, "Export.Name"))+`"}`)
		}
	}
	return out
}

func publishersOf(t *testing.T, b *built, tp encryptedTopic) []publisherKind {
	t.Helper()
	account := b.stage.Cfg.Account
	points := func(v any) bool { return slices.Contains(tp.topicRefs, str(v)) }
	service := func(svc string, publishCtx map[string]string) (request, request) {
		return request{service: svc, action: "sns:Publish", context: publishCtx}, request{service: svc, context: map[string]string{}}
	}
	var out []publisherKind
	for kind, tpl := range b.templates {
		for _, a := range tpl.Resources("AWS::CloudWatch::Alarm") {
			for _, action := range anyList(a.Props["AlarmActions"]) {
				if points(action) {
					pub, enc := service("cloudwatch.amazonaws.com", map[string]string{"aws:SourceAccount": account,
						"aws:SourceArn": fmt.Sprintf("arn:aws:cloudwatch:us-east-1:%s:alarm:%s", account, str(a.Props["AlarmName"]))})
					out = append(out, publisherKind{what: "alarm " + str(a.Props["AlarmName"]), publish: &pub, encrypt: enc})
				}
			}
		}
		for _, r := range tpl.Resources("AWS::Events::Rule") {
			for _, target := range anyList(r.Props["Targets"]) {
				if points(get(target, "Arn")) {
					pub, enc := service("events.amazonaws.com", map[string]string{})
					out = append(out, publisherKind{what: "rule " + kind + "/" + r.LogicalID, publish: &pub, encrypt: enc})
				}
			}
		}
		for _, bd := range tpl.Resources("AWS::Budgets::Budget") {
			for _, n := range anyList(bd.Props["NotificationsWithSubscribers"]) {
				for _, s := range anyList(get(n, "Subscribers")) {
					if get(s, "SubscriptionType") == "SNS" && points(get(s, "Address")) {
						pub, enc := service("budgets.amazonaws.com", map[string]string{})
						out = append(out, publisherKind{what: "budget " + bd.LogicalID, publish: &pub, encrypt: enc})
					}
				}
			}
		}
		slr := "arn:aws:iam::" + account + ":role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling"
		for _, g := range tpl.Resources("AWS::AutoScaling::AutoScalingGroup") {
			for _, n := range anyList(g.Props["NotificationConfigurations"]) {
				if points(get(n, "TopicARN")) {
					out = append(out, publisherKind{what: "asg " + str(g.Props["AutoScalingGroupName"]),
						encrypt: request{principal: slr, account: account, context: map[string]string{"aws:PrincipalArn": slr, "kms:CallerAccount": account}}})
				}
			}
		}
		for _, pol := range tpl.Resources("AWS::IAM::Policy") {
			stmts, _ := get(pol.Props, "PolicyDocument.Statement").([]any)
			if !grants(stmts, "sns:Publish", points) {
				continue
			}
			role := "arn:aws:iam::" + account + ":role/" + kind + "-" + pol.LogicalID
			out = append(out, publisherKind{what: "role " + kind + "/" + pol.LogicalID,
				encrypt: request{principal: role, account: account, context: map[string]string{"aws:PrincipalArn": role, "kms:CallerAccount": account}},
				identityOK: func() bool {
					keyPoints := func(v any) bool { return slices.Contains(tp.keyRefs, str(v)) }
					return grants(stmts, "kms:GenerateDataKey", keyPoints) && grants(stmts, "kms:Decrypt", keyPoints)
				}})
		}
	}
	return out
}

// grants reports whether an Allow statement grants action on a resource
// that target accepts.
func grants(stmts []any, action string, target func(any) bool) bool {
	for _, s := range stmts {
		if get(s, "Effect") != "Allow" || !actionMatches(get(s, "Action"), action) {
			continue
		}
		resources := anyList(get(s, "Resource"))
		if len(resources) == 0 {
			resources = []any{get(s, "Resource")}
		}
		for _, r := range resources {
			if target(r) {
				return true
			}
		}
	}
	return false
}

func anyList(v any) []any {
	l, _ := v.([]any)
	return l
}

// keyOf finds the stack and logical id of the key a topic's KmsMasterKeyId
// names: a GetAtt in its own stack, or an import of another stack's export.
func keyOf(b *built, kind string, ref any) (string, string) {
	if id, ok := get(ref, "Fn::GetAtt.0").(string); ok {
		return kind, id
	}
	name := str(get(ref, "Fn::ImportValue"))
	for k, tpl := range b.templates {
		outputs, _ := tpl["Outputs"].(map[string]any)
		for _, o := range outputs {
			if str(get(o, "Export.Name")) == name {
				return k, str(get(o, "Value.Fn::GetAtt.0"))
			}
		}
	}
	return kind, ""
}
