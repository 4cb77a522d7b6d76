package main

import (
	"slices"
	"strconv"
	"strings"

	"github.com/bp/infra/internal/cfn"
)

// target is a drawn resource that a target group sends traffic to.
type target struct {
	node string
	port string
}

// targetGroups maps target groups to the services and ASGs registered in
// them (ECS service LoadBalancers, ASG TargetGroupARNs), with the port the
// traffic arrives on.
func (b *builder) targetGroups() map[nodeKey][]target {
	out := map[nodeKey][]target{}
	tgPort := func(tg nodeKey) string {
		r, _ := b.idx.resource(tg)
		if p := portNumber(r.Properties["Port"]); p > 0 {
			return strconv.Itoa(p)
		}
		return ""
	}
	b.idx.each(func(k nodeKey, r cfn.Resource) {
		node := b.node(k)
		if node == "" {
			return
		}
		switch r.Type {
		case "AWS::ECS::Service":
			for _, lb := range list(r.Properties["LoadBalancers"]) {
				port := ""
				if p := portNumber(dig(lb, "ContainerPort")); p > 0 {
					port = strconv.Itoa(p)
				}
				for _, tg := range b.idx.keys(k.stack, dig(lb, "TargetGroupArn")) {
					if port == "" {
						port = tgPort(tg)
					}
					out[tg] = append(out[tg], target{node, port})
				}
			}
		case "AWS::AutoScaling::AutoScalingGroup":
			for _, tg := range b.idx.keys(k.stack, r.Properties["TargetGroupARNs"]) {
				out[tg] = append(out[tg], target{node, tgPort(tg)})
			}
		}
	}, "AWS::ECS::Service", "AWS::AutoScaling::AutoScalingGroup")
	return out
}

// forward is one forwarding of a listener: to which target groups, on what
// condition ("default" for the listener's default action).
type forward struct {
	lb     string
	groups []nodeKey
	when   string
}

func (b *builder) forwards() []forward {
	var out []forward
	listenerLB := map[nodeKey][]string{}
	b.idx.each(func(k nodeKey, r cfn.Resource) {
		lbs := b.nodesOf(k.stack, r.Properties["LoadBalancerArn"])
		listenerLB[k] = lbs
		for _, lb := range lbs {
			if groups := forwardGroups(b.idx, k.stack, r.Properties["DefaultActions"]); len(groups) > 0 {
				out = append(out, forward{lb, groups, "default"})
			}
		}
	}, "AWS::ElasticLoadBalancingV2::Listener")
	b.idx.each(func(k nodeKey, r cfn.Resource) {
		groups := forwardGroups(b.idx, k.stack, r.Properties["Actions"])
		if len(groups) == 0 {
			return
		}
		for _, l := range b.idx.keys(k.stack, r.Properties["ListenerArn"]) {
			for _, lb := range listenerLB[l] {
				out = append(out, forward{lb, groups, ruleCondition(r.Properties["Conditions"])})
			}
		}
	}, "AWS::ElasticLoadBalancingV2::ListenerRule")
	return out
}

// forwardGroups returns the target groups of forward actions.
func forwardGroups(idx *stageIndex, stack string, actions any) []nodeKey {
	var out []nodeKey
	for _, a := range list(actions) {
		if t, _ := dig(a, "Type").(string); !strings.EqualFold(t, "forward") {
			continue
		}
		out = append(out, idx.keys(stack, dig(a, "TargetGroupArn"))...)
		for _, tg := range list(dig(a, "ForwardConfig", "TargetGroups")) {
			out = append(out, idx.keys(stack, dig(tg, "TargetGroupArn"))...)
		}
	}
	return out
}

// ruleCondition summarises a listener rule's conditions: "/api/* /up",
// "host api.example.com".
func ruleCondition(conds any) string {
	var parts []string
	for _, c := range list(conds) {
		field, _ := dig(c, "Field").(string)
		var values []any
		switch field {
		case "path-pattern":
			values = list(dig(c, "PathPatternConfig", "Values"))
		case "host-header":
			values = list(dig(c, "HostHeaderConfig", "Values"))
		case "source-ip":
			values = list(dig(c, "SourceIpConfig", "Values"))
		}
		if len(values) == 0 {
			values = list(dig(c, "Values"))
		}
		var vs []string
		for _, v := range values {
			if s, ok := v.(string); ok {
				vs = append(vs, s)
			}
		}
		switch field {
		case "path-pattern":
			parts = append(parts, strings.Join(vs, " "))
		case "source-ip":
			if len(vs) == 0 { // a parameter, resolved at deploy time
				vs = []string{"listed"}
			}
			parts = append(parts, "from "+strings.Join(vs, " "))
		case "":
		default:
			parts = append(parts, field+" "+strings.Join(vs, " "))
		}
	}
	if len(parts) == 0 {
		return "rule"
	}
	return strings.Join(parts, "; ")
}

// lbTargets returns, per load balancer, the drawn resources it forwards to.
func (b *builder) lbTargets() map[string][]string {
	groups := b.targetGroups()
	out := map[string][]string{}
	for _, f := range b.forwards() {
		for _, tg := range f.groups {
			for _, t := range groups[tg] {
				if !slices.Contains(out[f.lb], t.node) {
					out[f.lb] = append(out[f.lb], t.node)
				}
			}
		}
	}
	return out
}

// loadBalancerFlows draws listener forwards to the registered targets.
func (b *builder) loadBalancerFlows() {
	groups := b.targetGroups()
	for _, f := range b.forwards() {
		for _, tg := range f.groups {
			for _, t := range groups[tg] {
				b.flow(f.lb, t.node, t.port, f.when)
			}
		}
	}
}

// cloudFrontFlows draws viewers to every distribution and each origin that
// is a drawn resource (an S3 bucket through origin access control, a load
// balancer).
func (b *builder) cloudFrontFlows() {
	b.idx.each(func(k nodeKey, r cfn.Resource) {
		cf := b.node(k)
		if cf == "" {
			return
		}
		cfg := dig(r.Properties, "DistributionConfig")
		viewerPorts := "80, 443"
		if dig(cfg, "DefaultCacheBehavior", "ViewerProtocolPolicy") == "https-only" {
			viewerPorts = "443"
		}
		b.flow(b.outside(kindInternet, kindInternet.label), cf, viewerPorts)
		for _, o := range list(dig(cfg, "Origins")) {
			note := "origin"
			switch {
			case dig(o, "OriginAccessControlId") != nil:
				note = "origin (OAC)"
			case hasOAI(dig(o, "S3OriginConfig", "OriginAccessIdentity")):
				note = "origin (OAI)"
			}
			for _, to := range b.nodesOf(k.stack, dig(o, "DomainName")) {
				b.flow(cf, to, "", note)
			}
		}
	}, "AWS::CloudFront::Distribution")
}

// taskDefinitions returns the task definitions an ECS service runs.
func (b *builder) taskDefinitions(k nodeKey, r cfn.Resource) []keyed {
	var out []keyed
	for _, td := range b.idx.keys(k.stack, r.Properties["TaskDefinition"]) {
		if res, ok := b.idx.resource(td); ok && res.Type == "AWS::ECS::TaskDefinition" {
			out = append(out, keyed{td, res})
		}
	}
	return out
}

// hasOAI is true for an origin access identity set to anything but "".
func hasOAI(v any) bool {
	s, isString := v.(string)
	return v != nil && (!isString || s != "")
}
