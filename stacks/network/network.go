package network

import (
	"fmt"
	"slices"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/bp/infra/config"
	"github.com/bp/infra/constructs/topic"
	"github.com/bp/infra/naming"
	"github.com/bp/infra/stacks/base"
)

// Props configure the Network stack.
type Props struct {
	Cfg   config.Stage
	Names naming.Names
}

// Network is the stage's VPC, its security groups and the alerts topic; the
// topic lives here, in the first stack, so every later stack can publish to it
// without a dependency cycle.
type Network struct {
	Stack          awscdk.Stack
	Vpc            awsec2.IVpc
	SecurityGroups SecurityGroups
	AlertsTopic    awssns.ITopic
	// AlertsKey encrypts the alerts topic; CloudWatch alarms may use it.
	AlertsKey awskms.IKey
	// NatAlarmNames are the NAT bytes alarms, built here beside the NATs
	// (literal names: another stack reading NAT ids would pin exports that a
	// switch of network.natKind or natCount deletes).
	NatAlarmNames []string
	// NatEgressParameter is the SSM StringList of the NATs' public
	// addresses (<ip>/32), which the worker API rule of the ALB admits.
	// Compute resolves it at deploy time: an export of the addresses would
	// block every NAT change while compute imports it.
	NatEgressParameter string
}

// New builds the Network stack.
func New(scope constructs.Construct, p Props) Network {
	stack := base.NewStack(scope, p.Cfg, p.Names, naming.Network, "VPC, subnets, NAT, endpoints, security groups and the alerts topic")
	cfg := p.Cfg.Network
	vpc := awsec2.NewVpc(stack, jsii.String("Vpc"), &awsec2.VpcProps{
		VpcName:            jsii.String(p.Names.Prefix()),
		IpAddresses:        awsec2.IpAddresses_Cidr(jsii.String(cfg.VpcCidr)),
		AvailabilityZones:  jsii.Strings(p.Cfg.AvailabilityZones...),
		NatGateways:        jsii.Number(float64(cfg.NatCount)),
		NatGatewayProvider: natProvider(cfg),
		SubnetConfiguration: &[]*awsec2.SubnetConfiguration{
			{Name: jsii.String("public"), SubnetType: awsec2.SubnetType_PUBLIC, CidrMask: jsii.Number(float64(cfg.PublicSubnetMask)), MapPublicIpOnLaunch: jsii.Bool(false)},
			{Name: jsii.String("private"), SubnetType: awsec2.SubnetType_PRIVATE_WITH_EGRESS, CidrMask: jsii.Number(float64(cfg.PrivateSubnetMask))},
			{Name: jsii.String("isolated"), SubnetType: awsec2.SubnetType_PRIVATE_ISOLATED, CidrMask: jsii.Number(float64(cfg.IsolatedSubnetMask))},
		},
		// The S3 gateway endpoint is free and keeps model and media bytes off NAT.
		GatewayEndpoints: &map[string]*awsec2.GatewayVpcEndpointOptions{
			"S3": {Service: awsec2.GatewayVpcEndpointAwsService_S3()},
		},
		RestrictDefaultSecurityGroup: jsii.Bool(true),
	})
	addFlowLogs(stack, vpc, p)

	sgs := newSecurityGroups(stack, vpc, p.Cfg)
	addInterfaceEndpoints(stack, vpc, sgs.Endpoints, cfg.InterfaceEndpoints)

	// Alarms, the GPU launch-failure rule, the budget, the fleets' ASG error
	// notifications and our Lambdas publish here.
	a := topic.New(stack, "Alerts", topic.Props{
		Name:                     p.Names.AlertsTopic(),
		Publishers:               []topic.Publisher{topic.CloudWatchAlarms, topic.EventBridge, topic.Budgets},
		AutoScalingNotifications: true,
		Email:                    p.Cfg.AlertEmail,
	})

	net := Network{Stack: stack, Vpc: vpc, SecurityGroups: sgs, AlertsTopic: a.Topic, AlertsKey: a.Key}
	var nats []natDevice
	for _, subnet := range *vpc.PublicSubnets() {
		if nat, ok := subnet.Node().TryFindChild(jsii.String("NATGateway")).(awsec2.CfnNatGateway); ok && nat != nil {
			eip := subnet.Node().FindChild(jsii.String("EIP")).(awsec2.CfnEIP)
			nats = append(nats, natDevice{gatewayID: nat.AttrNatGatewayId(), publicIP: eip.Ref()})
		}
		if inst, ok := subnet.Node().TryFindChild(jsii.String("NatInstance")).(awsec2.Instance); ok && inst != nil {
			encryptRootVolume(inst)
			nats = append(nats, natDevice{instanceID: inst.InstanceId(), publicIP: natInstanceEIP(subnet.(constructs.Construct), inst)})
		}
	}
	net.NatAlarmNames = addNatAlarms(stack, p, a.Topic, nats)
	net.NatEgressParameter = publishNatEgress(stack, p, nats)
	base.Finish(stack, p.Cfg, p.Names, suppressions())
	return net
}

func natProvider(n config.Network) awsec2.NatProvider {
	if n.NatKind == "instance" {
		// NAT instance v2: Amazon Linux 2023 from its public SSM parameter,
		// resolved at deploy time, so synthesis needs no lookup.
		// Its public address is an Elastic IP (natInstanceEIP), stable across
		// stop/start, so the worker API rule can name it.
		return awsec2.NatProvider_InstanceV2(&awsec2.NatInstanceProps{
			InstanceType:             awsec2.NewInstanceType(jsii.String(n.NatInstanceType)),
			DefaultAllowedTraffic:    awsec2.NatTrafficDirection_OUTBOUND_ONLY,
			AssociatePublicIpAddress: jsii.Bool(false),
		})
	}
	return awsec2.NatProvider_Gateway(nil)
}

// encryptRootVolume encrypts the NAT instance's root volume, which the NAT
// provider does not expose.
func encryptRootVolume(inst awsec2.Instance) {
	inst.Instance().SetBlockDeviceMappings(&[]interface{}{&awsec2.CfnInstance_BlockDeviceMappingProperty{
		DeviceName: jsii.String("/dev/xvda"),
		Ebs: &awsec2.CfnInstance_EbsProperty{
			Encrypted: jsii.Bool(true), VolumeType: jsii.String("gp3"), VolumeSize: jsii.Number(8), DeleteOnTermination: jsii.Bool(true),
		},
	}})
}

// addFlowLogs records all VPC traffic (the review found flow logs suppressed,
// never implemented) to a log group with the stage's retention.
func addFlowLogs(stack awscdk.Stack, vpc awsec2.Vpc, p Props) {
	group := base.LogGroup(stack, "FlowLogGroup", p.Names.LogGroup("vpc-flow-logs"), p.Cfg.Network.FlowLogRetentionDays)
	role := awsiam.NewRole(stack, jsii.String("FlowLogRole"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("vpc-flow-logs.amazonaws.com"), nil),
		Description: jsii.String("Lets VPC flow logs write to " + p.Names.LogGroup("vpc-flow-logs")),
	})
	vpc.AddFlowLog(jsii.String("FlowLog"), &awsec2.FlowLogOptions{
		Destination: awsec2.FlowLogDestination_ToCloudWatchLogs(group, role),
		TrafficType: awsec2.FlowLogTrafficType_ALL,
	})
}

// interfaceEndpoint is one configurable endpoint: its construct id and service.
type interfaceEndpoint struct {
	id      string
	service awsec2.InterfaceVpcEndpointAwsService
}

// interfaceEndpoints maps config.InterfaceEndpointNames to the AWS APIs the
// tasks, workers and DB-init call.
func interfaceEndpoints() map[string]interfaceEndpoint {
	return map[string]interfaceEndpoint{
		"ecr.api":        {"EcrApi", awsec2.InterfaceVpcEndpointAwsService_ECR()},
		"ecr.dkr":        {"EcrDocker", awsec2.InterfaceVpcEndpointAwsService_ECR_DOCKER()},
		"logs":           {"Logs", awsec2.InterfaceVpcEndpointAwsService_CLOUDWATCH_LOGS()},
		"monitoring":     {"Monitoring", awsec2.InterfaceVpcEndpointAwsService_CLOUDWATCH_MONITORING()},
		"secretsmanager": {"SecretsManager", awsec2.InterfaceVpcEndpointAwsService_SECRETS_MANAGER()},
		"ssm":            {"Ssm", awsec2.InterfaceVpcEndpointAwsService_SSM()},
		"ssmmessages":    {"SsmMessages", awsec2.InterfaceVpcEndpointAwsService_SSM_MESSAGES()},
		"ec2messages":    {"Ec2Messages", awsec2.InterfaceVpcEndpointAwsService_EC2_MESSAGES()},
		"autoscaling":    {"Autoscaling", awsec2.InterfaceVpcEndpointAwsService_AUTOSCALING()},
		"kms":            {"Kms", awsec2.InterfaceVpcEndpointAwsService_KMS()},
	}
}

// addInterfaceEndpoints creates the configured endpoints (validated names).
func addInterfaceEndpoints(stack awscdk.Stack, vpc awsec2.Vpc, sg awsec2.ISecurityGroup, names []string) {
	eps := interfaceEndpoints()
	for _, name := range slices.Sorted(slices.Values(names)) {
		ep := eps[name]
		awsec2.NewInterfaceVpcEndpoint(stack, jsii.String(ep.id+"Endpoint"), &awsec2.InterfaceVpcEndpointProps{
			Vpc:               vpc,
			Service:           ep.service,
			Subnets:           &awsec2.SubnetSelection{SubnetType: awsec2.SubnetType_PRIVATE_WITH_EGRESS},
			SecurityGroups:    &[]awsec2.ISecurityGroup{sg},
			PrivateDnsEnabled: jsii.Bool(true),
			Open:              jsii.Bool(false),
		})
	}
}

func describe(format string, a ...any) *string { return jsii.String(fmt.Sprintf(format, a...)) }
