package test

import (
	"fmt"
	"strings"
	"testing"
)

// sgEgress lists a security group's egress rules (inline and separate) as
// "proto:port->target" where target is a group's logical id, a CIDR or a prefix list.
func sgEgress(tpl Template, groupPrefix string) []string {
	return sgRules(tpl, groupPrefix, "SecurityGroupEgress", "->")
}

// sgIngress lists ingress rules as "proto:port<-source".
func sgIngress(tpl Template, groupPrefix string) []string {
	return sgRules(tpl, groupPrefix, "SecurityGroupIngress", "<-")
}

func sgRules(tpl Template, groupPrefix, kind, arrow string) []string {
	var out []string
	render := func(rule map[string]any) string {
		peer := str(rule["CidrIp"])
		for _, k := range []string{"DestinationSecurityGroupId", "SourceSecurityGroupId", "DestinationPrefixListId", "SourcePrefixListId"} {
			if v, ok := rule[k]; ok {
				peer = str(v)
				if id := get(v, "Fn::GetAtt.0"); id != nil {
					peer = str(id)
				}
			}
		}
		return fmt.Sprintf("%s:%v%s%s", rule["IpProtocol"], rule["FromPort"], arrow, peer)
	}
	for _, sg := range tpl.Resources("AWS::EC2::SecurityGroup") {
		if !strings.HasPrefix(sg.LogicalID, groupPrefix) {
			continue
		}
		list, _ := sg.Props[kind].([]any)
		for _, r := range list {
			out = append(out, render(r.(map[string]any)))
		}
	}
	for _, r := range tpl.Resources("AWS::EC2::" + kind) {
		if strings.HasPrefix(str(get(r.Props, "GroupId.Fn::GetAtt.0")), groupPrefix) {
			out = append(out, render(r.Props))
		}
	}
	return out
}

func containsPrefix(list []string, prefix string) bool {
	for _, s := range list {
		if strings.HasPrefix(s, prefix) {
			return true
		}
	}
	return false
}

// TestVpcLayoutPerStage: subnets in every configured zone, NAT per stage,
// flow logs with retention, the free S3 gateway endpoint always, interface
// endpoints only where enabled.
func TestVpcLayoutPerStage(t *testing.T) {
	for _, b := range all() {
		cfg := b.stage.Cfg
		net := b.templates["network"]
		vpc := net.One(t, "AWS::EC2::VPC")
		if vpc.Props["CidrBlock"] != cfg.Network.VpcCidr {
			t.Errorf("%s: VPC CIDR %v", b.label, vpc.Props["CidrBlock"])
		}
		if got := len(net.Resources("AWS::EC2::Subnet")); got != 3*len(cfg.AvailabilityZones) {
			t.Errorf("%s: %d subnets, want public+private+isolated in %d zones", b.label, got, len(cfg.AvailabilityZones))
		}
		nats := len(net.Resources("AWS::EC2::NatGateway"))
		instances := len(net.Resources("AWS::EC2::Instance"))
		if cfg.Network.NatKind == "gateway" && (nats != cfg.Network.NatCount || instances != 0) ||
			cfg.Network.NatKind == "instance" && (instances != cfg.Network.NatCount || nats != 0) {
			t.Errorf("%s: %d NAT gateways and %d NAT instances for %d x %s", b.label, nats, instances, cfg.Network.NatCount, cfg.Network.NatKind)
		}
		if len(net.Where("AWS::EC2::FlowLog", "TrafficType", "ALL")) != 1 {
			t.Errorf("%s: flow logs not implemented", b.label)
		}
		flowLogs := net.Where("AWS::Logs::LogGroup", "LogGroupName", b.stage.Names.LogGroup("vpc-flow-logs"))
		if len(flowLogs) != 1 || num(flowLogs[0].Props["RetentionInDays"]) != float64(cfg.Network.FlowLogRetentionDays) ||
			cfg.IsProduction() && num(flowLogs[0].Props["RetentionInDays"]) < 90 {
			t.Errorf("%s: flow log group missing or without its retention (at least 90 days in production)", b.label)
		}
		endpoints := net.Resources("AWS::EC2::VPCEndpoint")
		gateway, iface := 0, 0
		for _, e := range endpoints {
			if e.Props["VpcEndpointType"] == "Interface" {
				iface++
			} else if strings.Contains(str(e.Props["ServiceName"]), ".s3") {
				gateway++
			}
		}
		if gateway != 1 || iface != len(cfg.Network.InterfaceEndpoints) {
			t.Errorf("%s: %d S3 gateway and %d interface endpoints (configured %v)", b.label, gateway, iface, cfg.Network.InterfaceEndpoints)
		}
		// Each configured name is the AWS service's own: "the name of the
		// service [is] com.amazonaws.region.service" (AWS PrivateLink Guide,
		// AWS services that integrate with AWS PrivateLink). The switched-on
		// variant configures every name config accepts.
		services := map[string]int{}
		for _, e := range endpoints {
			if e.Props["VpcEndpointType"] == "Interface" {
				services[renderJoin(e.Props["ServiceName"])]++
			}
		}
		for _, name := range cfg.Network.InterfaceEndpoints {
			if want := "com.amazonaws." + cfg.Region + "." + name; services[want] != 1 {
				t.Errorf("%s: interface endpoint %q: want one endpoint for service %s, have %v", b.label, name, want, services)
			}
		}
	}
}

// TestSecurityGroupsAllowOnlyRealFlows: every group is described, internal
// groups have no egress, nothing but the ALB is open to the internet, and
// no group allows all traffic anywhere.
func TestSecurityGroupsAllowOnlyRealFlows(t *testing.T) {
	for _, b := range all() {
		net := b.templates["network"]
		for _, sg := range net.Resources("AWS::EC2::SecurityGroup") {
			if len(str(sg.Props["GroupDescription"])) < 20 {
				t.Errorf("%s/%s: no meaningful description", b.label, sg.LogicalID)
			}
		}
		for _, group := range []string{"DatabaseSg", "CacheSg", "EndpointsSg"} {
			for _, rule := range sgEgress(net, group) {
				if !strings.HasPrefix(rule, "icmp:252->255.255.255.255/32") {
					t.Errorf("%s: internal group %s has egress %s", b.label, group, rule)
				}
			}
		}
		for _, sg := range net.Resources("AWS::EC2::SecurityGroup") {
			for _, rule := range sgIngress(net, sg.LogicalID) {
				if strings.HasSuffix(rule, "<-0.0.0.0/0") && !strings.HasPrefix(sg.LogicalID, "AlbSg") {
					t.Errorf("%s: %s open to the internet: %s", b.label, sg.LogicalID, rule)
				}
			}
			for _, rule := range append(sgIngress(net, sg.LogicalID), sgEgress(net, sg.LogicalID)...) {
				// A NAT instance forwards any protocol by design.
				if strings.HasPrefix(rule, "-1:") && !strings.Contains(sg.LogicalID, "NatSecurityGroup") {
					t.Errorf("%s: %s allows all protocols: %s", b.label, sg.LogicalID, rule)
				}
			}
		}
		alb := sgIngress(net, "AlbSg")
		want := []string{fmt.Sprintf("tcp:%d<-0.0.0.0/0", b.stage.Cfg.ListenerPort())}
		if b.stage.Cfg.ServesHTTPS() {
			want = append(want, "tcp:80<-0.0.0.0/0")
		}
		if strings.Join(alb, ",") != strings.Join(want, ",") {
			t.Errorf("%s: ALB ingress %v, want %v", b.label, alb, want)
		}
	}
}

// TestAlertsKeyLetsPublishersEncrypt: every publisher of the encrypted topic,
// including Auto Scaling's service-linked role (fleet launch errors), may use its key.
func TestAlertsKeyLetsPublishersEncrypt(t *testing.T) {
	b := stages["staging"]
	var policy string
	for _, k := range b.templates["network"].Resources("AWS::KMS::Key") {
		if strings.Contains(k.LogicalID, "Alerts") {
			policy = str(k.Props["KeyPolicy"])
		}
	}
	for _, want := range []string{"cloudwatch.amazonaws.com", "events.amazonaws.com", "budgets.amazonaws.com", "AWSServiceRoleForAutoScaling", "kms:GenerateDataKey*"} {
		if !strings.Contains(policy, want) {
			t.Errorf("alerts key policy lacks %s", want)
		}
	}
}

// TestAlertsTopicIsEncryptedAndStageScoped.
func TestAlertsTopicIsEncryptedAndStageScoped(t *testing.T) {
	for _, name := range []string{"staging", "production"} {
		b := stages[name]
		topic := b.templates["network"].Where("AWS::SNS::Topic", "TopicName", b.stage.Names.AlertsTopic())
		if len(topic) != 1 || topic[0].Props["KmsMasterKeyId"] == nil {
			t.Fatalf("%s: alerts topic missing or unencrypted", name)
		}
		policy := str(b.templates["network"].One(t, "AWS::SNS::TopicPolicy").Props)
		for _, svc := range []string{"cloudwatch.amazonaws.com", "events.amazonaws.com", "budgets.amazonaws.com", `"aws:SecureTransport":"false"`} {
			if !strings.Contains(policy, svc) {
				t.Errorf("%s: topic policy lacks %s", name, svc)
			}
		}
	}
}
