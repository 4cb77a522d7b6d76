package main

import (
	"regexp"
	"strings"

	"github.com/bp/infra/internal/cfn"
)

// kind is a sort of node in the diagram.
type kind struct {
	name  string   // short id, e.g. "ecs"; tests name nodes "<name>:<node name>"
	label string   // shown above the node name
	shape string   // graphviz shape
	props []string // properties holding a physical name, first one set wins
}

var (
	kindAlarms     = kind{name: "alarms", label: "CloudWatch alarms", shape: "note"}
	kindCloudFront = kind{name: "cloudfront", label: "CloudFront", shape: "octagon"}
	kindALB        = kind{name: "alb", label: "ALB", shape: "hexagon", props: []string{"Name"}}
	kindSNS        = kind{name: "sns", label: "SNS topic", shape: "cds", props: []string{"TopicName"}}
	kindSQS        = kind{name: "sqs", label: "SQS queue", shape: "cds", props: []string{"QueueName"}}
	kindLambda     = kind{name: "lambda", label: "Lambda", shape: "component", props: []string{"FunctionName"}}
	kindECS        = kind{name: "ecs", label: "ECS service", shape: "box3d", props: []string{"ServiceName"}}
	kindASG        = kind{name: "asg", label: "Auto Scaling group", shape: "box3d", props: []string{"AutoScalingGroupName"}}
	kindRDS        = kind{name: "rds", label: "RDS", shape: "cylinder", props: []string{"DBInstanceIdentifier", "DBClusterIdentifier"}}
	kindCache      = kind{name: "cache", label: "ElastiCache", shape: "cylinder", props: []string{"ReplicationGroupId", "ClusterName", "ServerlessCacheName"}}
	kindBucket     = kind{name: "bucket", label: "S3 bucket", shape: "folder", props: []string{"BucketName"}}
	kindSecret     = kind{name: "secret", label: "Secret", shape: "note", props: []string{"Name"}}
	kindECR        = kind{name: "ecr", label: "ECR repository", shape: "folder", props: []string{"RepositoryName"}}
	kindSSM        = kind{name: "ssm", label: "SSM parameter", shape: "note", props: []string{"Name"}}
	kindRule       = kind{name: "rule", label: "EventBridge rule", shape: "diamond", props: []string{"Name", "ScheduleExpression"}}
	kindSchedule   = kind{name: "schedule", label: "Scheduled action", shape: "diamond"}
	kindBudget     = kind{name: "budget", label: "Budget", shape: "note"}
	kindNAT        = kind{name: "nat", label: "NAT", shape: "house"}
	kindEndpoints  = kind{name: "endpoints", label: "VPC interface endpoints", shape: "box"}
	kindGateway    = kind{name: "gateway", label: "VPC gateway endpoint", shape: "box"}

	// Nodes outside the stacks.
	kindInternet       = kind{name: "internet", label: "Internet", shape: "ellipse"}
	kindCloudFormation = kind{name: "cloudformation", label: "CloudFormation", shape: "ellipse"}
	kindMetrics        = kind{name: "metrics", label: "CloudWatch metrics", shape: "ellipse"}
	kindParamStore     = kind{name: "ssm", label: "SSM Parameter Store", shape: "ellipse"}
	kindEmail          = kind{name: "email", label: "Email", shape: "ellipse"}
)

var kindsByType = map[string]kind{
	"AWS::CloudWatch::Alarm":                    kindAlarms,
	"AWS::CloudWatch::CompositeAlarm":           kindAlarms,
	"AWS::CloudFront::Distribution":             kindCloudFront,
	"AWS::ElasticLoadBalancingV2::LoadBalancer": kindALB,
	"AWS::SNS::Topic":                           kindSNS,
	"AWS::SQS::Queue":                           kindSQS,
	"AWS::Lambda::Function":                     kindLambda,
	"AWS::ECS::Service":                         kindECS,
	"AWS::AutoScaling::AutoScalingGroup":        kindASG,
	"AWS::RDS::DBInstance":                      kindRDS,
	"AWS::RDS::DBCluster":                       kindRDS,
	"AWS::ElastiCache::ReplicationGroup":        kindCache,
	"AWS::ElastiCache::CacheCluster":            kindCache,
	"AWS::ElastiCache::ServerlessCache":         kindCache,
	"AWS::S3::Bucket":                           kindBucket,
	"AWS::SecretsManager::Secret":               kindSecret,
	"AWS::ECR::Repository":                      kindECR,
	"AWS::SSM::Parameter":                       kindSSM,
	"AWS::Events::Rule":                         kindRule,
	"AWS::AutoScaling::ScheduledAction":         kindSchedule,
	"AWS::Budgets::Budget":                      kindBudget,
	"AWS::EC2::NatGateway":                      kindNAT,
}

// cdkHelperLambda matches the functions CDK adds for its own custom
// resources (log retention, auto-delete objects, AwsCustomResource...).
var cdkHelperLambda = regexp.MustCompile(`^(Custom|LogRetention|AWS679f53fac002430cb0da5b7982bd2287|BucketNotificationsHandler|SingletonLambda)`)

// classify returns the node kind of a resource, if it is drawn. VPC
// endpoints are drawn too (kindEndpoints, kindGateway) but grouped, see
// graph.go.
func classify(id string, r cfn.Resource) (kind, bool) {
	switch r.Type {
	case "AWS::EC2::Instance":
		if b, ok := r.Properties["SourceDestCheck"].(bool); ok && !b {
			return kindNAT, true
		}
		if s, ok := r.Properties["SourceDestCheck"].(string); ok && strings.EqualFold(s, "false") {
			return kindNAT, true
		}
		return kind{}, false
	case "AWS::RDS::DBInstance":
		// An instance of an Aurora cluster is drawn as its cluster.
		if r.Properties["DBClusterIdentifier"] != nil {
			return kind{}, false
		}
	case "AWS::ElasticLoadBalancingV2::LoadBalancer":
		if str(r.Properties, "Type") == "network" {
			k := kindALB
			k.label = "NLB"
			return k, true
		}
	}
	k, ok := kindsByType[r.Type]
	if ok && k.name == kindLambda.name && (cdkHelperLambda.MatchString(id) || strings.Contains(r.CDKPath(), "/Custom::")) {
		return kind{}, false
	}
	return k, ok
}

var cdkHashSuffix = regexp.MustCompile(`[0-9A-F]{8}$`)

// shortID drops the hash CDK appends to logical ids.
func shortID(id string) string {
	if s := cdkHashSuffix.ReplaceAllString(id, ""); s != "" {
		return s
	}
	return id
}
