package test

import (
	"path"
	"strings"
)

// request is one call as IAM evaluates it against a resource policy: who
// makes it, the action, and the condition keys the request carries. A
// condition on a key the request does not carry does not match (IAM User
// Guide, "Condition keys that are not present in the request").
type request struct {
	service   string // a service principal, e.g. events.amazonaws.com
	principal string // or an IAM principal ARN (role)
	account   string // the principal's account, for account (root) principals
	action    string
	context   map[string]string
}

// allows reports whether the policy statements allow the request: some Allow
// statement matches it and no Deny statement does. Values must be resolved
// (see resolvePolicy).
func allows(statements []any, r request) bool {
	allowed := false
	for _, s := range statements {
		st, _ := s.(map[string]any)
		if !principalMatches(st["Principal"], r) || !actionMatches(st["Action"], r.action) || !conditionsMatch(st["Condition"], r.context) {
			continue
		}
		if st["Effect"] == "Deny" {
			return false
		}
		allowed = true
	}
	return allowed
}

func principalMatches(p any, r request) bool {
	if p == "*" {
		return true
	}
	m, _ := p.(map[string]any)
	for _, svc := range listOfStrings(m["Service"]) {
		if r.service != "" && svc == r.service {
			return true
		}
	}
	for _, arn := range listOfStrings(m["AWS"]) {
		if arn == "*" && r.principal != "" {
			return true
		}
		if r.principal != "" && (arn == r.principal || arn == "arn:aws:iam::"+r.account+":root" || arn == r.account) {
			return true
		}
	}
	return false
}

func actionMatches(a any, action string) bool {
	for _, pattern := range listOfStrings(a) {
		if ok, _ := path.Match(strings.ToLower(pattern), strings.ToLower(action)); ok {
			return true
		}
	}
	return false
}

// conditionsMatch supports the operators our policies use.
func conditionsMatch(c any, ctx map[string]string) bool {
	ops, _ := c.(map[string]any)
	for op, kv := range ops {
		for key, want := range kv.(map[string]any) {
			got, present := ctx[key]
			if !present {
				return false
			}
			match := false
			for _, w := range listOfStrings(want) {
				switch op {
				case "StringEquals", "ArnEquals", "Bool":
					match = match || got == w
				case "StringLike", "ArnLike":
					ok, _ := path.Match(w, got)
					match = match || ok
				default:
					return false // an operator this evaluator does not know never matches
				}
			}
			if !match {
				return false
			}
		}
	}
	return true
}

func listOfStrings(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// resolvePolicy replaces the pseudo parameters and joins in a policy so the
// evaluator sees plain strings; other references become "ref:<id>".
func resolvePolicy(v any, account string) any {
	switch node := v.(type) {
	case []any:
		out := make([]any, len(node))
		for i, e := range node {
			out[i] = resolvePolicy(e, account)
		}
		return out
	case map[string]any:
		if ref, ok := node["Ref"].(string); ok && len(node) == 1 {
			switch ref {
			case "AWS::Partition":
				return "aws"
			case "AWS::AccountId":
				return account
			case "AWS::Region":
				return "us-east-1"
			case "AWS::URLSuffix":
				return "amazonaws.com"
			}
			return "ref:" + ref
		}
		if j, ok := node["Fn::Join"].([]any); ok && len(node) == 1 && len(j) == 2 {
			sep, _ := j[0].(string)
			parts, _ := resolvePolicy(j[1], account).([]any)
			out := make([]string, len(parts))
			for i, p := range parts {
				out[i] = str(p)
			}
			return strings.Join(out, sep)
		}
		out := map[string]any{}
		for k, e := range node {
			out[k] = resolvePolicy(e, account)
		}
		return out
	}
	return v
}
