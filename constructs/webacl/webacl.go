// Package webacl builds AWS WAF web ACLs the one way this app uses them:
// allow by default, CloudWatch metrics and sampled requests on every rule,
// rules in the order given.
package webacl

import (
	"github.com/aws/aws-cdk-go/awscdk/v2/awswafv2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// Scope is where a web ACL protects: an ALB (REGIONAL) or CloudFront.
type Scope string

const (
	Regional   Scope = "REGIONAL"
	CloudFront Scope = "CLOUDFRONT"
)

// Rule is one rule of a web ACL; exactly one of Managed and Rate is set.
type Rule struct {
	Name    string
	Managed *Managed
	Rate    *Rate
}

// Managed is an AWS managed rule group, with rules turned to Count.
type Managed struct {
	Group string   // e.g. AWSManagedRulesCommonRuleSet
	Count []string // rules of the group that only count
}

// Rate blocks a client IP above Limit requests per 5 minutes, on the paths
// that start with one of Under and with none of Except.
type Rate struct {
	Limit  int
	Under  []string
	Except []string
}

// New creates the web ACL named name below scope.
func New(scope constructs.Construct, id, name string, where Scope, rules []Rule) awswafv2.CfnWebACL {
	var out []interface{}
	for i, r := range rules {
		rule := &awswafv2.CfnWebACL_RuleProperty{
			Name:             jsii.String(r.Name),
			Priority:         jsii.Number(float64(i)),
			VisibilityConfig: visibility(name + "-" + r.Name),
		}
		switch {
		case r.Managed != nil:
			var overrides []interface{}
			for _, c := range r.Managed.Count {
				overrides = append(overrides, &awswafv2.CfnWebACL_RuleActionOverrideProperty{
					Name: jsii.String(c), ActionToUse: &awswafv2.CfnWebACL_RuleActionProperty{Count: &awswafv2.CfnWebACL_CountActionProperty{}},
				})
			}
			group := &awswafv2.CfnWebACL_ManagedRuleGroupStatementProperty{VendorName: jsii.String("AWS"), Name: jsii.String(r.Managed.Group)}
			if len(overrides) > 0 {
				group.RuleActionOverrides = &overrides
			}
			rule.Statement = &awswafv2.CfnWebACL_StatementProperty{ManagedRuleGroupStatement: group}
			rule.OverrideAction = &awswafv2.CfnWebACL_OverrideActionProperty{None: map[string]interface{}{}}
		case r.Rate != nil:
			rate := &awswafv2.CfnWebACL_RateBasedStatementProperty{
				Limit: jsii.Number(float64(r.Rate.Limit)), AggregateKeyType: jsii.String("IP"), EvaluationWindowSec: jsii.Number(300),
			}
			if down := pathsStatement(r.Rate.Under, r.Rate.Except); down != nil {
				rate.ScopeDownStatement = down
			}
			rule.Statement = &awswafv2.CfnWebACL_StatementProperty{RateBasedStatement: rate}
			rule.Action = &awswafv2.CfnWebACL_RuleActionProperty{Block: &awswafv2.CfnWebACL_BlockActionProperty{}}
		default:
			panic("webacl: rule " + r.Name + " has neither Managed nor Rate")
		}
		out = append(out, rule)
	}
	return awswafv2.NewCfnWebACL(scope, jsii.String(id), &awswafv2.CfnWebACLProps{
		Name:             jsii.String(name),
		Scope:            jsii.String(string(where)),
		DefaultAction:    &awswafv2.CfnWebACL_DefaultActionProperty{Allow: &awswafv2.CfnWebACL_AllowActionProperty{}},
		VisibilityConfig: visibility(name),
		Rules:            &out,
	})
}

func visibility(metric string) *awswafv2.CfnWebACL_VisibilityConfigProperty {
	return &awswafv2.CfnWebACL_VisibilityConfigProperty{
		CloudWatchMetricsEnabled: jsii.Bool(true), MetricName: jsii.String(metric), SampledRequestsEnabled: jsii.Bool(true),
	}
}

// pathsStatement matches a URI path that starts with one of under and with
// none of except; nil when it would match everything.
func pathsStatement(under, except []string) *awswafv2.CfnWebACL_StatementProperty {
	var parts []*awswafv2.CfnWebACL_StatementProperty
	var any []interface{}
	for _, u := range under {
		any = append(any, startsWith(u))
	}
	switch len(any) {
	case 0:
	case 1:
		parts = append(parts, any[0].(*awswafv2.CfnWebACL_StatementProperty))
	default:
		parts = append(parts, &awswafv2.CfnWebACL_StatementProperty{OrStatement: &awswafv2.CfnWebACL_OrStatementProperty{Statements: &any}})
	}
	for _, e := range except {
		parts = append(parts, &awswafv2.CfnWebACL_StatementProperty{NotStatement: &awswafv2.CfnWebACL_NotStatementProperty{Statement: startsWith(e)}})
	}
	switch len(parts) {
	case 0:
		return nil
	case 1:
		return parts[0]
	}
	all := make([]interface{}, len(parts))
	for i, p := range parts {
		all[i] = p
	}
	return &awswafv2.CfnWebACL_StatementProperty{AndStatement: &awswafv2.CfnWebACL_AndStatementProperty{Statements: &all}}
}

func startsWith(path string) *awswafv2.CfnWebACL_StatementProperty {
	return &awswafv2.CfnWebACL_StatementProperty{ByteMatchStatement: &awswafv2.CfnWebACL_ByteMatchStatementProperty{
		FieldToMatch:         &awswafv2.CfnWebACL_FieldToMatchProperty{UriPath: map[string]interface{}{}},
		PositionalConstraint: jsii.String("STARTS_WITH"),
		SearchString:         jsii.String(path),
		TextTransformations:  &[]interface{}{&awswafv2.CfnWebACL_TextTransformationProperty{Priority: jsii.Number(0), Type: jsii.String("NONE")}},
	}}
}
