package main

import (
	"regexp"
	"strings"

	"github.com/bp/infra/tools/internal/cfn"
)

// kind is a main resource shown in the diagram; everything else only links
// them together.
type kind struct {
	name  string // short id, e.g. "ecs"
	label string // shown above the resource name
	shape string // graphviz shape
	rank  int    // position in the request flow: edges inferred from shared resources point from lower to higher rank
	props []string
}

var (
	kindAlarms     = kind{name: "alarms", label: "CloudWatch alarms", shape: "note", rank: 0}
	kindCloudFront = kind{name: "cloudfront", label: "CloudFront", shape: "octagon", rank: 1}
	kindALB        = kind{name: "alb", label: "ALB", shape: "hexagon", rank: 2, props: []string{"Name"}}
	kindSNS        = kind{name: "sns", label: "SNS topic", shape: "cds", rank: 3, props: []string{"TopicName"}}
	kindLambda     = kind{name: "lambda", label: "Lambda", shape: "component", rank: 4, props: []string{"FunctionName"}}
	kindECS        = kind{name: "ecs", label: "ECS service", shape: "box3d", rank: 5, props: []string{"ServiceName"}}
	kindASG        = kind{name: "asg", label: "Auto Scaling group", shape: "box3d", rank: 5, props: []string{"AutoScalingGroupName"}}
	kindRDS        = kind{name: "rds", label: "RDS", shape: "cylinder", rank: 7, props: []string{"DBInstanceIdentifier", "DBClusterIdentifier"}}
	kindCache      = kind{name: "cache", label: "ElastiCache", shape: "cylinder", rank: 7, props: []string{"ReplicationGroupId", "ClusterName", "ServerlessCacheName"}}
	kindBucket     = kind{name: "bucket", label: "S3 bucket", shape: "folder", rank: 7, props: []string{"BucketName"}}
	kindNAT        = kind{name: "nat", label: "NAT", shape: "house", rank: 8}
	kindVPC        = kind{name: "vpc", label: "VPC", shape: "tab", rank: 9}
)

var kindsByType = map[string]kind{
	"AWS::CloudWatch::Alarm":                    kindAlarms,
	"AWS::CloudWatch::CompositeAlarm":           kindAlarms,
	"AWS::CloudFront::Distribution":             kindCloudFront,
	"AWS::ElasticLoadBalancingV2::LoadBalancer": kindALB,
	"AWS::SNS::Topic":                           kindSNS,
	"AWS::Lambda::Function":                     kindLambda,
	"AWS::ECS::Service":                         kindECS,
	"AWS::AutoScaling::AutoScalingGroup":        kindASG,
	"AWS::RDS::DBInstance":                      kindRDS,
	"AWS::RDS::DBCluster":                       kindRDS,
	"AWS::ElastiCache::ReplicationGroup":        kindCache,
	"AWS::ElastiCache::CacheCluster":            kindCache,
	"AWS::ElastiCache::ServerlessCache":         kindCache,
	"AWS::S3::Bucket":                           kindBucket,
	"AWS::EC2::NatGateway":                      kindNAT,
	"AWS::EC2::VPC":                             kindVPC,
}

// cdkHelperLambda matches the functions CDK adds for its own custom
// resources (log retention, auto-delete objects, AwsCustomResource...).
var cdkHelperLambda = regexp.MustCompile(`^(Custom|LogRetention|AWS679f53fac002430cb0da5b7982bd2287|BucketNotificationsHandler|SingletonLambda)`)

// classify returns the main kind of a resource, if it is one.
func classify(id string, r cfn.Resource) (kind, bool) {
	if r.Type == "AWS::EC2::Instance" {
		if b, ok := r.Properties["SourceDestCheck"].(bool); ok && !b {
			return kindNAT, true
		}
		if s, ok := r.Properties["SourceDestCheck"].(string); ok && strings.EqualFold(s, "false") {
			return kindNAT, true
		}
		return kind{}, false
	}
	k, ok := kindsByType[r.Type]
	if ok && k.name == "lambda" && (cdkHelperLambda.MatchString(id) || strings.Contains(r.CDKPath(), "/Custom::")) {
		return kind{}, false
	}
	return k, ok
}

// opaqueTypes are never walked through when linking main resources: network
// plumbing that every resource touches, shared keys and log groups, and
// resources that mention everything (dashboards).
var opaqueTypes = map[string]bool{
	"AWS::EC2::Subnet":                                 true,
	"AWS::EC2::RouteTable":                             true,
	"AWS::EC2::Route":                                  true,
	"AWS::EC2::SubnetRouteTableAssociation":            true,
	"AWS::EC2::InternetGateway":                        true,
	"AWS::EC2::VPCGatewayAttachment":                   true,
	"AWS::EC2::EIP":                                    true,
	"AWS::EC2::NetworkAcl":                             true,
	"AWS::EC2::NetworkAclEntry":                        true,
	"AWS::EC2::SubnetNetworkAclAssociation":            true,
	"AWS::EC2::VPCEndpoint":                            true,
	"AWS::EC2::FlowLog":                                true,
	"AWS::KMS::Key":                                    true,
	"AWS::KMS::Alias":                                  true,
	"AWS::Logs::LogGroup":                              true,
	"AWS::CloudWatch::Dashboard":                       true,
	"AWS::CDK::Metadata":                               true,
	"AWS::Budgets::Budget":                             true,
	"AWS::CloudFormation::CustomResource":              true,
	"AWS::EC2::SecurityGroupEgress":                    false,
	"AWS::ElasticLoadBalancingV2::ListenerCertificate": true,
}

// plumbingTypes may be walked through only to find the VPC a resource is in.
var plumbingTypes = map[string]bool{
	"AWS::EC2::Subnet":     true,
	"AWS::EC2::RouteTable": true,
}

func isOpaque(r cfn.Resource) bool {
	return opaqueTypes[r.Type] || strings.HasPrefix(r.Type, "Custom::")
}

// alarmActionProps are the only properties followed from an alarm: what it
// triggers, not every metric dimension it watches.
var alarmActionProps = []string{"AlarmActions", "OKActions", "InsufficientDataActions"}

var cdkHashSuffix = regexp.MustCompile(`[0-9A-F]{8}$`)

// shortID drops the hash CDK appends to logical ids.
func shortID(id string) string {
	if s := cdkHashSuffix.ReplaceAllString(id, ""); s != "" {
		return s
	}
	return id
}
