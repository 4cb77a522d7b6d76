package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bp/infra/internal/cfn"
)

// everyOut holds one stack per stage with one of each priced thing.
const everyOut = "testdata/every/cdk.out"

// The expected totals below are worked out by hand from AWS list prices
// (us-east-1, 730-hour month), not from the price file or the tool:
//
//	EC2 t4g.nano $0.0042/h; g4dn.xlarge $0.526/h, Spot estimated at 45%
//	public IPv4 $0.005/h; NAT gateway $0.045/h; ALB $0.0225/h
//	interface endpoint $0.01 per AZ-hour; EBS gp3 $0.08/GB-month
//	RDS db.t4g.micro $0.016/h, db.t4g.small $0.032/h (Multi-AZ twice),
//	  gp3 $0.115/GB-month single-AZ, $0.23 Multi-AZ
//	ElastiCache cache.t4g.micro: Valkey $0.0128/h; cache.t4g.small: Redis OSS $0.032/h
//	Fargate ARM64 $0.02590/vCPU-h + $0.00285/GB-h; x86 $0.03238 + $0.00356; Spot 30%
//	CloudWatch: alarm metric $0.10, high-resolution $0.30, anomaly detection 3 metrics,
//	  composite alarm $0.50, dashboard $3.00, custom metric $0.30 (per month)
//	Secrets Manager $0.40 per secret or replica-month; KMS key $1.00/month
//	WAF $5.00 per web ACL-month + $1.00 per rule-month (a rule group counts as one rule)
//	AWS Budgets $0.02 per budget-day; SSM advanced parameter $0.05/month
func TestEveryPricedThingWorkedByHand(t *testing.T) {
	r := loadReport(t, everyOut)
	require.Empty(t, r.Unpriced, "every resource of the fixture has a price or is free")

	staging := 0.0 +
		3.066 + // NAT instance t4g.nano: 0.0042 * 730
		3.65 + // its public IPv4 (AssociatePublicIpAddress): 0.005 * 730
		0.64 + // its 8 GB gp3 root volume: 8 * 0.08
		16.425 + // internet-facing ALB: 0.0225 * 730
		7.30 + // its public IPv4 in 2 AZs: 2 * 0.005 * 730
		29.20 + // ecr.api + ecr.dkr interface endpoints in 2 AZs: 2 * 2 * 0.01 * 730 (S3 gateway endpoint free)
		11.68 + // RDS db.t4g.micro single-AZ: 0.016 * 730 (Performance Insights 7 days: free)
		2.30 + // 20 GB gp3 single-AZ: 20 * 0.115
		18.688 + // Valkey cache.t4g.micro primary + replica: 2 * 0.0128 * 730
		5.767 + // 1 Fargate ARM64 task 0.25 vCPU / 0.5 GB: (0.25 * 0.0259 + 0.5 * 0.00285) * 730
		172.791 + // GPU group at min 1, all Spot: 0.526 * 0.45 * 730
		8.00 + // its 100 GB gp3 root volume: 100 * 0.08
		0.60 + // alarms: plain 1 + metric math over 2 metrics + anomaly detection 3 = 6 * 0.10
		0.30 + // one high-resolution (10 s) alarm: 1 * 0.30
		0.50 + // one composite alarm
		3.00 + // one dashboard
		0.80 + // one secret replicated to one more region: 2 * 0.40
		1.00 + // one KMS key
		9.00 + // CLOUDFRONT web ACL 5.00 + 4 rules (2 custom, 2 AWS managed groups without fee) * 1.00
		0.608333 + // one budget: 0.02 * 730 / 24 days
		0.05 + // one advanced SSM parameter (the standard one is free)
		0.30 // one metric filter publishing one custom metric
	production := 0.0 +
		32.85 + // NAT gateway: 0.045 * 730
		3.65 + // its Elastic IP: 0.005 * 730
		16.425 + // internal ALB (no public IPv4): 0.0225 * 730
		14.60 + // logs interface endpoint in 2 AZs: 2 * 0.01 * 730
		46.72 + // RDS db.t4g.small Multi-AZ: 0.032 * 2 * 730
		11.50 + // 50 GB gp3 Multi-AZ: 50 * 0.23
		46.72 + // Redis cache.t4g.small, 1 shard x (1 replica + primary): 2 * 0.032 * 730
		21.62625 + // x86 task 0.5 vCPU / 1 GB = (0.5 * 0.03238 + 1 * 0.00356) * 730 = 14.4175; desired 2 with
		2.162625 + //   FARGATE base 1 + weights 1:1 -> 1.5 on-demand = 21.62625, 0.5 Spot = 0.5 * 14.4175 * 0.30
		8.00 + // REGIONAL web ACL 5.00 + 3 rules (custom, IP reputation list, own rule group) * 1.00
		1.00 // one KMS key

	assert.InDelta(t, staging, stageTotal(t, r, "staging"), 1e-5, "staging")
	assert.InDelta(t, production, stageTotal(t, r, "production"), 1e-5, "production")
	assert.InDelta(t, staging+production, r.MonthlyUSD, 1e-5)
}

func stageTotal(t *testing.T, r Report, stage string) float64 {
	t.Helper()
	for _, s := range r.Stages {
		if s.Name == stage {
			return s.MonthlyUSD
		}
	}
	t.Fatalf("stage %s not in report", stage)
	return 0
}

// estimateOne prices a one-stack template built in the test.
func estimateOne(t *testing.T, resources map[string]cfn.Resource) StackReport {
	t.Helper()
	p, err := LoadPrices("us-east-1", "")
	require.NoError(t, err)
	sr, _ := estimateStack(cfn.Stack{Stage: "qa", Name: "bp-qa-x", Template: &cfn.Template{Resources: resources}}, p)
	return sr
}

func unpricedReasons(sr StackReport) map[string]string {
	out := map[string]string{}
	for _, it := range sr.Items {
		if it.Unpriced {
			out[it.Resource] = it.Reason
		}
	}
	return out
}

func TestUnknownResourceTypeIsUnpricedNotFree(t *testing.T) {
	sr := estimateOne(t, map[string]cfn.Resource{
		"Queue":  {Type: "AWS::SQS::Queue"},
		"Role":   {Type: "AWS::IAM::Role"},
		"Init":   {Type: "Custom::DbInit"},
		"Policy": {Type: "AWS::SQS::QueuePolicy"},
	})
	assert.Equal(t, map[string]string{"Queue": "not known to the cost tool: price it (an estimator in tools/cost) or list it as free with a reason (tools/cost/free.go)"}, unpricedReasons(sr))
}

func TestValkeyAndRedisNodesUseTheirEnginesPrices(t *testing.T) {
	group := func(engine string) cfn.Resource {
		props := map[string]any{"CacheNodeType": "cache.t4g.small", "NumCacheClusters": 2.0}
		if engine != "" {
			props["Engine"] = engine
		}
		return cfn.Resource{Type: "AWS::ElastiCache::ReplicationGroup", Properties: props}
	}
	sr := estimateOne(t, map[string]cfn.Resource{"V": group("valkey"), "R": group("redis"), "D": group(""), "M": group("memcached")})
	got := map[string]float64{}
	for _, it := range sr.Items {
		got[it.Resource] = it.MonthlyUSD
	}
	// AWS list prices, node-based, us-east-1: Valkey cache.t4g.small $0.0256/h, Redis OSS $0.032/h
	assert.InDelta(t, 2*0.0256*730, got["V"], 1e-9) // 37.376
	assert.InDelta(t, 2*0.032*730, got["R"], 1e-9)  // 46.72
	assert.InDelta(t, 2*0.032*730, got["D"], 1e-9, "a replication group without Engine runs Redis OSS")
	assert.Equal(t, map[string]string{"M": "engine memcached has no node prices in the price file"}, unpricedReasons(sr))
}

func TestWAFSubscriptionRuleGroupsAreUnpriced(t *testing.T) {
	managed := func(vendor, name string) map[string]any {
		return map[string]any{"Name": name, "Statement": map[string]any{"ManagedRuleGroupStatement": map[string]any{"VendorName": vendor, "Name": name}}}
	}
	sr := estimateOne(t, map[string]cfn.Resource{"Acl": {Type: "AWS::WAFv2::WebACL", Properties: map[string]any{
		"Scope": "REGIONAL",
		"Rules": []any{
			managed("AWS", "AWSManagedRulesCommonRuleSet"),
			managed("AWS", "AWSManagedRulesBotControlRuleSet"),
			managed("AWS", "AWSManagedRulesATPRuleSet"),
			managed("F5", "OWASP_Managed"),
		},
	}}})
	var unpriced []string
	fixed := 0.0
	for _, it := range sr.Items {
		if it.Unpriced {
			unpriced = append(unpriced, it.Description)
			continue
		}
		fixed += it.MonthlyUSD
	}
	assert.ElementsMatch(t, []string{
		"WAF AWS managed rule group AWSManagedRulesATPRuleSet",
		"WAF AWS managed rule group AWSManagedRulesBotControlRuleSet",
		"WAF marketplace rule group F5/OWASP_Managed",
	}, unpriced)
	assert.InDelta(t, 5.00+4*1.00, fixed, 1e-9, "the web ACL and its 4 rules are still billed")
}

func TestInstanceWithoutBlockDeviceMappingsFlagsItsRootVolume(t *testing.T) {
	sr := estimateOne(t, map[string]cfn.Resource{"Nat": {Type: "AWS::EC2::Instance", Properties: map[string]any{
		"InstanceType": "t4g.micro", "SourceDestCheck": false,
	}}})
	reasons := unpricedReasons(sr)
	assert.Contains(t, reasons["Nat"], "root volume's size and type come from the AMI")
	for _, it := range sr.Items {
		if !it.Unpriced && strings.HasPrefix(it.Description, "NAT instance t4g.micro") {
			assert.InDelta(t, 0.0084*730, it.MonthlyUSD, 1e-9) // t4g.micro $0.0084/h = 6.132
		}
	}
}

func TestEBSVolumeTypesUseTheirOwnPrices(t *testing.T) {
	sr := estimateOne(t, map[string]cfn.Resource{"Box": {Type: "AWS::EC2::Instance", Properties: map[string]any{
		"InstanceType": "t4g.nano",
		"BlockDeviceMappings": []any{
			map[string]any{"DeviceName": "/dev/xvda", "Ebs": map[string]any{"VolumeSize": 8.0, "VolumeType": "gp3"}},
			map[string]any{"DeviceName": "/dev/xvdb", "Ebs": map[string]any{"VolumeSize": 10.0}}, // EC2 default: gp2
		},
	}}})
	got := map[string]float64{}
	for _, it := range sr.Items {
		got[it.Key] = it.MonthlyUSD
	}
	// Amazon EBS list prices: gp3 $0.08/GB-month, gp2 $0.10/GB-month
	assert.InDelta(t, 8*0.08, got["ec2-instance/Box/ebs/gp3"], 1e-9)
	assert.InDelta(t, 10*0.10, got["ec2-instance/Box/ebs/gp2"], 1e-9)
}

// An autoscaled service without DesiredCount runs, at idle, its scalable
// target's minimum: CloudFormation starts 1 task, then registering the target
// raises the count to MinCapacity (Application Auto Scaling).
func TestAutoscaledServiceIsPricedAtItsMinimum(t *testing.T) {
	sr := estimateOne(t, map[string]cfn.Resource{
		"Task": {Type: "AWS::ECS::TaskDefinition", Properties: map[string]any{
			"Cpu": "1024", "Memory": "2048", "RequiresCompatibilities": []any{"FARGATE"},
			"RuntimePlatform": map[string]any{"CpuArchitecture": "ARM64"},
		}},
		"Svc": {Type: "AWS::ECS::Service", Properties: map[string]any{
			"ServiceName": "api", "TaskDefinition": map[string]any{"Ref": "Task"}, "LaunchType": "FARGATE",
		}},
		"SvcTarget": {Type: "AWS::ApplicationAutoScaling::ScalableTarget", Properties: map[string]any{
			"MinCapacity": 3.0, "MaxCapacity": 6.0, "ScalableDimension": "ecs:service:DesiredCount",
			"ResourceId": map[string]any{"Fn::Join": []any{"", []any{"service/", "cluster", "/", map[string]any{"Fn::GetAtt": []any{"Svc", "Name"}}}}},
		}},
	})
	var tasks float64
	for _, it := range sr.Items {
		if strings.HasPrefix(it.Key, "fargate/Svc") {
			tasks += it.Quantity
			// Fargate ARM64: 1 vCPU x $0.02590 + 2 GB x $0.00285 = $0.0316/h, x 730 = $23.068 per task-month
			assert.InDelta(t, 3*23.068, it.MonthlyUSD, 1e-6)
		}
	}
	assert.InDelta(t, 3, tasks, 1e-9, "priced at the scalable target's MinCapacity")
}
