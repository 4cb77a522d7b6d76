package test

import (
	"net/netip"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// routeOf evaluates the serving listener of a compute template for one
// request the way the ALB does (Elastic Load Balancing User Guide, listener
// rules: "Rules are evaluated in priority order, from the lowest value to the
// highest value. The default rule is evaluated last"; a rule matches when all
// its conditions do; path-pattern values match with * and ? wildcards,
// source-ip values are CIDRs). natCidrs stands for the NatEgressCidrs
// parameter. It returns the forwarded target group's logical id or the
// fixed-response status.
func routeOf(t *testing.T, tpl Template, natCidrs []string, reqPath, from string) string {
	t.Helper()
	listener := servingListener(t, tpl)
	type rule struct {
		prio    float64
		conds   []any
		actions []any
	}
	var rules []rule
	for _, r := range tpl.Resources("AWS::ElasticLoadBalancingV2::ListenerRule") {
		if refTo(r.Props["ListenerArn"], listener.LogicalID) {
			rules = append(rules, rule{num(r.Props["Priority"]), anyList(r.Props["Conditions"]), anyList(r.Props["Actions"])})
		}
	}
	slices.SortFunc(rules, func(a, b rule) int { return int(a.prio - b.prio) })
	src := netip.MustParseAddr(from)
	for _, r := range rules {
		all := true
		for _, c := range r.conds {
			switch get(c, "Field") {
			case "path-pattern":
				all = all && slices.ContainsFunc(listOfStrings(get(c, "PathPatternConfig.Values")), func(p string) bool {
					return albWildcard(p).MatchString(reqPath)
				})
			case "source-ip":
				values := get(c, "SourceIpConfig.Values")
				cidrs := listOfStrings(values)
				if ref, ok := get(values, "Ref").(string); ok && ref == "NatEgressCidrs" {
					cidrs = natCidrs
				}
				all = all && slices.ContainsFunc(cidrs, func(c string) bool { return netip.MustParsePrefix(c).Contains(src) })
			default:
				t.Fatalf("routeOf: unsupported condition %s", str(c))
			}
		}
		if all {
			return actionOf(r.actions)
		}
	}
	return actionOf(anyList(listener.Props["DefaultActions"]))
}

// albWildcard is a path-pattern value as a regexp: "*" matches 0 or more
// characters (slashes too), "?" exactly one, the rest literally.
func albWildcard(p string) *regexp.Regexp {
	quoted := regexp.QuoteMeta(p)
	quoted = strings.ReplaceAll(quoted, `\*`, ".*")
	quoted = strings.ReplaceAll(quoted, `\?`, ".")
	return regexp.MustCompile("^" + quoted + "$")
}

func actionOf(actions []any) string {
	if len(actions) != 1 {
		return "actions " + str(actions)
	}
	if status := get(actions[0], "FixedResponseConfig.StatusCode"); status != nil {
		return str(status)
	}
	return str(get(actions[0], "TargetGroupArn"))
}

// servingListener is the listener the app is served on (HTTPS, or HTTP on a
// stage that allows plain HTTP).
func servingListener(t *testing.T, tpl Template) Resource {
	t.Helper()
	for _, l := range tpl.Resources("AWS::ElasticLoadBalancingV2::Listener") {
		if get(l.Props, "DefaultActions.0.Type") == "forward" {
			return l
		}
	}
	t.Fatal("no listener forwards to a target group")
	return Resource{}
}

// TestWorkerAPIAdmitsOnlyTheStagesNatAddresses: the compute stack's source
// list is the SSM parameter the network stack writes, and that parameter
// holds every NAT's Elastic IP as a /32 (AWS::EC2::EIP: "Ref returns the
// Elastic IP address"), each EIP bound to a NAT gateway or NAT instance.
func TestWorkerAPIAdmitsOnlyTheStagesNatAddresses(t *testing.T) {
	for _, b := range all() {
		param := b.templates["compute"]["Parameters"].(map[string]any)["NatEgressCidrs"]
		if get(param, "Type") != "AWS::SSM::Parameter::Value<List<String>>" {
			t.Errorf("%s: NatEgressCidrs is %v", b.label, get(param, "Type"))
		}
		net := b.templates["network"]
		ssm := net.Where("AWS::SSM::Parameter", "Name", get(param, "Default"))
		if len(ssm) != 1 || ssm[0].Props["Type"] != "StringList" {
			t.Fatalf("%s: the network stack writes no StringList %v", b.label, get(param, "Default"))
		}
		value := renderJoin(ssm[0].Props["Value"])
		eips := net.Resources("AWS::EC2::EIP")
		if want := b.stage.Cfg.Network.NatCount; len(eips) != want || strings.Count(value, "/32") != want {
			t.Errorf("%s: %d EIPs and value %s, want %d NAT addresses", b.label, len(eips), value, want)
		}
		for _, e := range eips {
			if !strings.Contains(value, `${{"Ref":"`+e.LogicalID+`"}}/32`) {
				t.Errorf("%s: parameter value %s lacks EIP %s", b.label, value, e.LogicalID)
			}
			bound := len(net.Where("AWS::EC2::NatGateway", "AllocationId", map[string]any{"Fn::GetAtt": []any{e.LogicalID, "AllocationId"}})) +
				len(net.Where("AWS::EC2::EIPAssociation", "AllocationId", map[string]any{"Fn::GetAtt": []any{e.LogicalID, "AllocationId"}}))
			if bound != 1 {
				t.Errorf("%s: EIP %s is bound to %d NATs, want 1", b.label, e.LogicalID, bound)
			}
		}
	}
}
