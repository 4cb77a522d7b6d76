package main

import "strings"

// freeTypes are resource types that cost nothing themselves, each with the
// reason. A type that is neither here nor in estimators is reported
// UNPRICED, so a new kind of resource can never slip into the totals as $0.
var freeTypes = map[string]string{
	"AWS::ApplicationAutoScaling::ScalableTarget":      "scaling configuration; the tasks it scales are priced",
	"AWS::ApplicationAutoScaling::ScalingPolicy":       "scaling configuration; its alarms are created by AWS, not this template",
	"AWS::AutoScaling::LaunchConfiguration":            "configuration; the instances it launches are priced with their group",
	"AWS::AutoScaling::LifecycleHook":                  "Auto Scaling configuration, no charge",
	"AWS::AutoScaling::ScalingPolicy":                  "Auto Scaling configuration, no charge",
	"AWS::AutoScaling::ScheduledAction":                "Auto Scaling configuration, no charge",
	"AWS::CDK::Metadata":                               "CDK bookkeeping, not an AWS resource",
	"AWS::CertificateManager::Certificate":             "public ACM certificates are free",
	"AWS::CloudFormation::CustomResource":              "runs its provider Lambda at deploy time; the Lambda is priced by use",
	"AWS::CloudFormation::WaitCondition":               "CloudFormation bookkeeping, no charge",
	"AWS::CloudFormation::WaitConditionHandle":         "CloudFormation bookkeeping, no charge",
	"AWS::CloudFront::CachePolicy":                     "CloudFront configuration, no charge",
	"AWS::CloudFront::CloudFrontOriginAccessIdentity":  "CloudFront configuration, no charge",
	"AWS::CloudFront::OriginAccessControl":             "CloudFront configuration, no charge",
	"AWS::CloudFront::OriginRequestPolicy":             "CloudFront configuration, no charge",
	"AWS::CloudFront::ResponseHeadersPolicy":           "CloudFront configuration, no charge",
	"AWS::EC2::EIPAssociation":                         "the Elastic IP itself is priced",
	"AWS::EC2::EgressOnlyInternetGateway":              "no charge; data transfer is billed by use",
	"AWS::EC2::InternetGateway":                        "no charge; data transfer is billed by use",
	"AWS::EC2::KeyPair":                                "no charge",
	"AWS::EC2::LaunchTemplate":                         "configuration; the instances it launches are priced with their group",
	"AWS::EC2::NetworkAcl":                             "VPC configuration, no charge",
	"AWS::EC2::NetworkAclEntry":                        "VPC configuration, no charge",
	"AWS::EC2::PrefixList":                             "VPC configuration, no charge",
	"AWS::EC2::Route":                                  "VPC configuration, no charge",
	"AWS::EC2::RouteTable":                             "VPC configuration, no charge",
	"AWS::EC2::SecurityGroup":                          "VPC configuration, no charge",
	"AWS::EC2::SecurityGroupEgress":                    "VPC configuration, no charge",
	"AWS::EC2::SecurityGroupIngress":                   "VPC configuration, no charge",
	"AWS::EC2::Subnet":                                 "VPC configuration, no charge",
	"AWS::EC2::SubnetNetworkAclAssociation":            "VPC configuration, no charge",
	"AWS::EC2::SubnetRouteTableAssociation":            "VPC configuration, no charge",
	"AWS::EC2::VPC":                                    "no charge; NAT, endpoints and public IPv4 are priced separately",
	"AWS::EC2::VPCCidrBlock":                           "VPC configuration, no charge",
	"AWS::EC2::VPCGatewayAttachment":                   "VPC configuration, no charge",
	"AWS::ECR::RegistryPolicy":                         "ECR configuration, no charge",
	"AWS::ECR::ReplicationConfiguration":               "configuration; replicated images are billed as storage by use",
	"AWS::ECS::CapacityProvider":                       "configuration; its instances are priced with their Auto Scaling group",
	"AWS::ECS::ClusterCapacityProviderAssociations":    "configuration; read for the services' capacity split",
	"AWS::ECS::TaskDefinition":                         "configuration; priced through the services that run it",
	"AWS::ElastiCache::ParameterGroup":                 "ElastiCache configuration, no charge",
	"AWS::ElastiCache::SubnetGroup":                    "ElastiCache configuration, no charge",
	"AWS::ElastiCache::User":                           "ElastiCache configuration, no charge",
	"AWS::ElastiCache::UserGroup":                      "ElastiCache configuration, no charge",
	"AWS::ElasticLoadBalancingV2::Listener":            "priced with its load balancer (hours and LCUs)",
	"AWS::ElasticLoadBalancingV2::ListenerCertificate": "priced with its load balancer",
	"AWS::ElasticLoadBalancingV2::ListenerRule":        "priced with its load balancer (rule evaluations are part of LCUs)",
	"AWS::ElasticLoadBalancingV2::TargetGroup":         "priced with its load balancer",
	"AWS::Events::Rule":                                "scheduled rules and AWS service events on the default bus are free",
	"AWS::IAM::InstanceProfile":                        "IAM is free",
	"AWS::IAM::ManagedPolicy":                          "IAM is free",
	"AWS::IAM::OIDCProvider":                           "IAM is free",
	"AWS::IAM::Policy":                                 "IAM is free",
	"AWS::IAM::Role":                                   "IAM is free",
	"AWS::IAM::ServiceLinkedRole":                      "IAM is free",
	"AWS::KMS::Alias":                                  "aliases are free; the key is priced",
	"AWS::Lambda::EventSourceMapping":                  "configuration; the function's invocations are billed by use",
	"AWS::Lambda::Permission":                          "configuration, no charge",
	"AWS::Logs::ResourcePolicy":                        "configuration, no charge",
	"AWS::Logs::SubscriptionFilter":                    "configuration; its destination is billed by use",
	"AWS::RDS::DBClusterParameterGroup":                "RDS configuration, no charge",
	"AWS::RDS::DBParameterGroup":                       "RDS configuration, no charge",
	"AWS::RDS::DBSubnetGroup":                          "RDS configuration, no charge",
	"AWS::RDS::OptionGroup":                            "RDS configuration, no charge (options that add instances would show as their own resources)",
	"AWS::S3::BucketPolicy":                            "configuration, no charge",
	"AWS::SNS::Subscription":                           "configuration; deliveries are billed by use with the topic",
	"AWS::SNS::TopicPolicy":                            "configuration, no charge",
	"AWS::SQS::QueuePolicy":                            "configuration, no charge",
	"AWS::SecretsManager::ResourcePolicy":              "configuration, no charge",
	"AWS::SecretsManager::RotationSchedule":            "rotation is free; the secret is priced and the rotation Lambda billed by use",
	"AWS::SecretsManager::SecretTargetAttachment":      "configuration; the secret is priced",
	"AWS::WAFv2::IPSet":                                "WAF configuration, no charge",
	"AWS::WAFv2::LoggingConfiguration":                 "no WAF charge; its log destination is billed by use",
	"AWS::WAFv2::RegexPatternSet":                      "WAF configuration, no charge",
	"AWS::WAFv2::RuleGroup":                            "billed as one rule in each web ACL that references it (see the web ACL's rules line)",
	"AWS::WAFv2::WebACLAssociation":                    "no charge; the web ACL is priced",
}

// customResourceReason covers Custom::* types: CDK's providers are Lambda
// functions that run at deploy time only.
const customResourceReason = "custom resource: runs its provider Lambda at deploy time; the Lambda is priced by use"

// isFree tells whether a resource type costs nothing itself, and why.
func isFree(typ string) (string, bool) {
	if strings.HasPrefix(typ, "Custom::") {
		return customResourceReason, true
	}
	reason, ok := freeTypes[typ]
	return reason, ok
}

// isKnownType tells whether the tool prices typ or lists it as free.
func isKnownType(typ string) bool {
	if _, ok := estimators[typ]; ok {
		return true
	}
	_, ok := isFree(typ)
	return ok
}
