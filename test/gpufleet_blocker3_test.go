package test

import (
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/bp/infra/bootcontract"
)

// workerEgressToAnywhere lists the TCP ports the GPU worker group may reach
// on 0.0.0.0/0 (the public ALB through NAT), from the Network template.
func workerEgressToAnywhere(t *testing.T, network Template) []int {
	t.Helper()
	var sg *Resource
	for _, r := range network.Resources("AWS::EC2::SecurityGroup") {
		if strings.HasPrefix(r.LogicalID, "GpuWorkerSg") {
			sg = &r
		}
	}
	if sg == nil {
		t.Fatal("network stack has no GpuWorkerSg")
	}
	rules, _ := sg.Props["SecurityGroupEgress"].([]any)
	for _, r := range network.Resources("AWS::EC2::SecurityGroupEgress") {
		if refTo(r.Props["GroupId"], sg.LogicalID) {
			rules = append(rules, r.Props)
		}
	}
	var ports []int
	for _, r := range rules {
		if str(get(r, "CidrIp")) != "0.0.0.0/0" || str(get(r, "IpProtocol")) != "tcp" {
			continue
		}
		from, to := int(num(get(r, "FromPort"))), int(num(get(r, "ToPort")))
		for p := from; p <= to && p-from < 100; p++ {
			ports = append(ports, p)
		}
	}
	return ports
}

// servingListeners returns port -> protocol of the Compute stack's ALB
// listeners that serve the app (a redirect-only listener serves nothing).
func servingListeners(compute Template) map[int]string {
	out := map[int]string{}
	for _, l := range compute.Resources("AWS::ElasticLoadBalancingV2::Listener") {
		actions, _ := l.Props["DefaultActions"].([]any)
		redirect := len(actions) > 0
		for _, a := range actions {
			redirect = redirect && str(get(a, "Type")) == "redirect"
		}
		if !redirect {
			out[int(num(l.Props["Port"]))] = str(l.Props["Protocol"])
		}
	}
	return out
}

// TestGpuFleetBlocker3WorkerEgressFollowsAlb: the old worker group allowed
// 443 out while the ALB served plain HTTP on 80, so workers never reached the
// backend. In every stage and in switched-on (plain HTTP) the worker may reach
// the ALB on exactly the port and protocol it serves, and the user data's API
// base URL uses that scheme.
func TestGpuFleetBlocker3WorkerEgressFollowsAlb(t *testing.T) {
	if v, ok := variants["switched-on"]; !ok || v.stage.Cfg.ServesHTTPS() {
		t.Fatal("the harness must build switched-on with plain HTTP (allowHttpOnly) for this test")
	}
	for _, b := range all() {
		t.Run(b.label, func(t *testing.T) {
			cfg := b.stage.Cfg
			egress := workerEgressToAnywhere(t, b.templates["network"])
			want := map[int]string{cfg.ListenerPort(): map[bool]string{true: "HTTPS", false: "HTTP"}[cfg.ServesHTTPS()]}
			if got := servingListeners(b.templates["compute"]); len(got) > 0 {
				want = got // the Compute stack's real listeners win once they exist
				if _, ok := got[cfg.ListenerPort()]; !ok {
					t.Errorf("ALB serves %v, config says port %d", got, cfg.ListenerPort())
				}
			}
			for port, proto := range want {
				if !slices.Contains(egress, port) {
					t.Errorf("ALB serves %s on %d but the GPU worker group allows only %v to 0.0.0.0/0", proto, port, egress)
				}
			}
			tpl := b.templates[gpuFleetKind]
			for _, fc := range cfg.Fleets {
				_, vals := envFileLines(t, fleetUserData(t, tpl, fleetLaunchTemplate(t, b, tpl, fc)))
				u, err := url.Parse(vals[bootcontract.EnvAPIBaseURL])
				if err != nil {
					t.Fatalf("API base URL: %v", err)
				}
				port := map[string]int{"https": 443, "http": 80}[u.Scheme]
				if proto, ok := want[port]; !ok || !strings.EqualFold(proto, u.Scheme) {
					t.Errorf("worker calls %s (port %d) but the ALB serves %v", u, port, want)
				}
			}
		})
	}
}
