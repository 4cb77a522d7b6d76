package main

import (
	"fmt"
	"slices"

	"github.com/bp/infra/internal/cfn"
)

// estimateWebACL prices a WAFv2 web ACL (REGIONAL or CLOUDFRONT scope: the
// same prices): the ACL per month plus each entry of its Rules per month, a
// rule group reference counting as one rule. AWS managed rule groups with a
// subscription fee (Bot Control, Fraud Control) and marketplace groups are
// UNPRICED until the price file has their prices.
func estimateWebACL(e *stackEstimate, id string, res cfn.Resource) {
	p := e.p.WAF
	key := "waf/" + id
	name := e.displayName(id, res, "Name")
	scope, err := e.r.String(res.Properties["Scope"])
	if err != nil {
		scope = "scope unknown"
	}
	e.add(key, "waf", id, res.Type, fmt.Sprintf("WAF web ACL %s (%s)", name, scope), 1, "web-ACL-months", p.WebACLMonth)
	e.usagePrice("WAF requests inspected", "million requests", p.PerMillionRequests)

	raw, err := e.r.Value(res.Properties["Rules"])
	if err != nil {
		e.unpriced(key+"/rules", "waf", id, res.Type, "WAF rules of "+name, why("Rules", err))
		return
	}
	rules, _ := raw.([]any)
	var custom, managed, groups int
	for i, r := range rules {
		m, _ := r.(map[string]any)
		stmt, _ := m["Statement"].(map[string]any)
		switch {
		case stmt["ManagedRuleGroupStatement"] != nil:
			managed++
			e.checkManagedRuleGroup(key, id, res.Type, i, m, stmt["ManagedRuleGroupStatement"])
		case stmt["RuleGroupReferenceStatement"] != nil:
			groups++
		default:
			custom++
		}
	}
	n := len(rules)
	desc := fmt.Sprintf("WAF rules of %s: %d (%d custom %s, %d managed %s, %d own %s)", name, n,
		custom, plural(custom, "rule"), managed, plural(managed, "rule group"), groups, plural(groups, "rule group"))
	e.add(key+"/rules", "waf", id, res.Type, desc, float64(n), "rule-months", p.RuleMonth)
}

// checkManagedRuleGroup flags a managed rule group that carries a fee of its
// own on top of the $1 rule.
func (e *stackEstimate) checkManagedRuleGroup(key, id, typ string, i int, rule map[string]any, v any) {
	m, _ := v.(map[string]any)
	vendor, verr := e.r.String(m["VendorName"])
	name, nerr := e.r.String(m["Name"])
	ruleName, _ := e.r.String(rule["Name"])
	if ruleName == "" {
		ruleName = fmt.Sprintf("rule %d", i)
	}
	lineKey := key + "/managed/" + ruleName
	switch {
	case verr != nil || nerr != nil:
		e.unpriced(lineKey, "waf", id, typ, "WAF managed rule group of "+ruleName, "VendorName or Name is not known from the template, so its subscription fee is unknown")
	case vendor != "AWS":
		e.unpriced(lineKey, "waf", id, typ, "WAF marketplace rule group "+vendor+"/"+name, "marketplace rule groups carry a seller's subscription and request fee not in the price file")
	case !slices.Contains(e.p.WAF.NoFeeManagedRuleGroups, name):
		e.unpriced(lineKey, "waf", id, typ, "WAF AWS managed rule group "+name, "not on the price file's list of managed rule groups without an extra fee: "+e.p.WAF.SubscriptionNote)
	}
}
