package test

import (
	"slices"
	"strings"
	"testing"
)

// wafMatches evaluates a WAF statement on a request path, as AWS WAF does for
// the statements our rules use (AWS WAF Developer Guide: a ByteMatchStatement
// with PositionalConstraint STARTS_WITH on UriPath, And/Or/Not statements).
func wafMatches(t *testing.T, st any, path string) bool {
	t.Helper()
	if bm := get(st, "ByteMatchStatement"); bm != nil {
		if get(bm, "FieldToMatch.UriPath") == nil || get(bm, "PositionalConstraint") != "STARTS_WITH" {
			t.Fatalf("unsupported byte match %s", str(bm))
		}
		return strings.HasPrefix(path, str(get(bm, "SearchString")))
	}
	if and := get(st, "AndStatement.Statements"); and != nil {
		for _, s := range anyList(and) {
			if !wafMatches(t, s, path) {
				return false
			}
		}
		return true
	}
	if or := get(st, "OrStatement.Statements"); or != nil {
		return slices.ContainsFunc(anyList(or), func(s any) bool { return wafMatches(t, s, path) })
	}
	if not := get(st, "NotStatement.Statement"); not != nil {
		return !wafMatches(t, not, path)
	}
	t.Fatalf("unsupported statement %s", str(st))
	return false
}

// TestAlbWebAclRateLimitsAndManagedRules: the production ALB is behind a
// REGIONAL web ACL with AWS's common and known-bad-inputs managed rule
// groups (AWS WAF, AWS Managed Rules: AWSManagedRulesCommonRuleSet,
// AWSManagedRulesKnownBadInputsRuleSet), a per-IP rate limit on the public
// API that does not count the worker API, and a much tighter one on worker
// registration.
func TestAlbWebAclRateLimitsAndManagedRules(t *testing.T) {
	checked := 0
	for _, b := range all() {
		acls := b.templates["compute"].Resources("AWS::WAFv2::WebACL")
		if !b.stage.Cfg.Waf.Enabled {
			if len(acls) != 0 {
				t.Errorf("%s: waf.enabled=false but %d web ACLs", b.label, len(acls))
			}
			continue
		}
		checked++
		if len(acls) != 1 || acls[0].Props["Scope"] != "REGIONAL" || get(acls[0].Props, "DefaultAction.Allow") == nil {
			t.Fatalf("%s: want one REGIONAL allow-by-default web ACL, got %v", b.label, acls)
		}
		acl := acls[0]
		assoc := b.templates["compute"].One(t, "AWS::WAFv2::WebACLAssociation")
		alb := b.templates["compute"].One(t, "AWS::ElasticLoadBalancingV2::LoadBalancer")
		if !refTo(assoc.Props["ResourceArn"], alb.LogicalID) || !refTo(assoc.Props["WebACLArn"], acl.LogicalID) {
			t.Errorf("%s: association %s does not tie the ACL to the ALB", b.label, str(assoc.Props))
		}
		rules := map[string]any{}
		var managed []string
		for _, r := range anyList(acl.Props["Rules"]) {
			rules[str(get(r, "Name"))] = r
			if g := get(r, "Statement.ManagedRuleGroupStatement"); g != nil {
				managed = append(managed, str(get(g, "VendorName"))+"/"+str(get(g, "Name")))
			}
		}
		slices.Sort(managed)
		if !slices.Equal(managed, []string{"AWS/AWSManagedRulesCommonRuleSet", "AWS/AWSManagedRulesKnownBadInputsRuleSet"}) {
			t.Errorf("%s: managed rule groups %v", b.label, managed)
		}
		rate := func(name string) (limit float64, scope any) {
			r := rules[name]
			st := get(r, "Statement.RateBasedStatement")
			if st == nil || get(r, "Action.Block") == nil || get(st, "AggregateKeyType") != "IP" {
				t.Fatalf("%s: %s is not a blocking per-IP rate rule: %s", b.label, name, str(r))
			}
			return num(get(st, "Limit")), get(st, "ScopeDownStatement")
		}
		w := b.stage.Cfg.Waf
		limit, scope := rate("api-rate")
		if limit != float64(w.APIRequestsPer5Min) {
			t.Errorf("%s: api-rate limit %v, want %d", b.label, limit, w.APIRequestsPer5Min)
		}
		for path, counted := range map[string]bool{"/api/jobs": true, "/api/user/1": true, "/api/worker/poll": false, "/api/worker/register": false, "/": false, "/sanctum/csrf-cookie": false} {
			if got := wafMatches(t, scope, path); got != counted {
				t.Errorf("%s: api-rate counts %s = %v, want %v", b.label, path, got, counted)
			}
		}
		limit, scope = rate("worker-register-rate")
		if limit != float64(w.RegisterRequestsPer5Min) || limit >= float64(w.APIRequestsPer5Min) {
			t.Errorf("%s: worker-register-rate limit %v, want %d (tighter than the API's)", b.label, limit, w.RegisterRequestsPer5Min)
		}
		for path, counted := range map[string]bool{"/api/worker/register": true, "/api/worker/poll": false, "/api/jobs": false} {
			if got := wafMatches(t, scope, path); got != counted {
				t.Errorf("%s: worker-register-rate counts %s = %v, want %v", b.label, path, got, counted)
			}
		}
	}
	if checked == 0 {
		t.Fatal("no build has a web ACL; production must")
	}
}

// TestMediaWebAclIsOptional: media.wafRequestsPer5Min puts a CLOUDFRONT-scope
// rate-based web ACL on the distribution (DistributionConfig.WebACLId takes
// the ACL's ARN for AWS WAF v2); without it there is none, and cdk-nag's
// CFR2 is suppressed with that reason.
func TestMediaWebAclIsOptional(t *testing.T) {
	for _, b := range all() {
		data := b.templates["data"]
		acls := data.Resources("AWS::WAFv2::WebACL")
		dist := data.One(t, "AWS::CloudFront::Distribution")
		limit := b.stage.Cfg.Media.WafRequestsPer5Min
		if limit == 0 {
			if len(acls) != 0 || get(dist.Props, "DistributionConfig.WebACLId") != nil {
				t.Errorf("%s: media WAF off but found %d ACLs / WebACLId %v", b.label, len(acls), get(dist.Props, "DistributionConfig.WebACLId"))
			}
			continue
		}
		if len(acls) != 1 || acls[0].Props["Scope"] != "CLOUDFRONT" {
			t.Fatalf("%s: want one CLOUDFRONT web ACL, got %v", b.label, acls)
		}
		if id := get(dist.Props, "DistributionConfig.WebACLId"); !equalJSON(id, map[string]any{"Fn::GetAtt": []any{acls[0].LogicalID, "Arn"}}) {
			t.Errorf("%s: WebACLId = %s, want the ACL's ARN", b.label, str(id))
		}
		if got := num(get(acls[0].Props, "Rules.0.Statement.RateBasedStatement.Limit")); got != float64(limit) {
			t.Errorf("%s: media rate limit %v, want %d", b.label, got, limit)
		}
	}
	if variants["switched-on"].stage.Cfg.Media.WafRequestsPer5Min == 0 {
		t.Fatal("the switched-on variant must exercise the media web ACL")
	}
}
