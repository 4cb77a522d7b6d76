package network

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsssm"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// natInstanceEIP gives a NAT instance an Elastic IP, the address the stage's
// traffic to the internet (and to its own public ALB) leaves from.
func natInstanceEIP(subnet constructs.Construct, inst awsec2.Instance) *string {
	eip := awsec2.NewCfnEIP(subnet, jsii.String("NatInstanceEIP"), &awsec2.CfnEIPProps{Domain: jsii.String("vpc")})
	awsec2.NewCfnEIPAssociation(subnet, jsii.String("NatInstanceEIPAssociation"), &awsec2.CfnEIPAssociationProps{
		AllocationId: eip.AttrAllocationId(),
		InstanceId:   inst.InstanceId(),
	})
	return eip.Ref() // an AWS::EC2::EIP's Ref is its public address
}

// publishNatEgress writes the NATs' addresses as CIDRs to an SSM StringList
// and returns its name.
func publishNatEgress(stack awscdk.Stack, p Props, nats []natDevice) string {
	name := p.Names.NatEgressParameter()
	cidrs := make([]*string, 0, len(nats))
	for _, n := range nats {
		cidrs = append(cidrs, awscdk.Fn_Join(jsii.String(""), &[]*string{n.publicIP, jsii.String("/32")}))
	}
	awsssm.NewStringListParameter(stack, jsii.String("NatEgressCidrs"), &awsssm.StringListParameterProps{
		ParameterName:   jsii.String(name),
		Description:     jsii.String("Public addresses (CIDR) the " + p.Names.Prefix() + " NATs send from: the only sources the ALB's worker API admits"),
		StringListValue: &[]*string{awscdk.Fn_Join(jsii.String(","), &cidrs)},
	})
	return name
}
