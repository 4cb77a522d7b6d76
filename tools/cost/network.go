package main

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/bp/infra/internal/cfn"
)

const hoursUnit = "hours"

func estimateNATGateway(e *stackEstimate, id string, res cfn.Resource) {
	p := e.p
	e.add("nat-gateway/"+id, "nat", id, res.Type, "NAT gateway", p.HoursPerMonth, hoursUnit, p.NATGateway.Hour)
	e.usagePrice("NAT gateway data processed", "GB", p.NATGateway.PerGB)
	if ct, err := e.r.String(res.Properties["ConnectivityType"]); err == nil && ct == "private" {
		return
	}
	// An EIP declared in this template is priced by estimateEIP; one
	// allocated elsewhere still bills its public IPv4 address here.
	if _, eip, ok := e.target(res.Properties["AllocationId"]); ok && eip.Type == "AWS::EC2::EIP" {
		return
	}
	e.add("nat-gateway/"+id+"/ipv4", "nat", id, res.Type, "public IPv4 of NAT gateway (EIP allocated outside this stack)", p.HoursPerMonth, hoursUnit, p.PublicIPv4)
}

// estimateEIP bills every Elastic IP: attached or not, a public IPv4 costs.
func estimateEIP(e *stackEstimate, id string, res cfn.Resource) {
	desc := "public IPv4 address (EIP)"
	if user := e.eipUser(id, res); user != "" {
		desc = "public IPv4 address (EIP of " + user + ")"
	}
	e.add("public-ipv4/"+id, "nat", id, res.Type, desc, e.p.HoursPerMonth, hoursUnit, e.p.PublicIPv4)
}

// eipUser names the NAT gateway or instance an EIP belongs to.
func (e *stackEstimate) eipUser(eipID string, eip cfn.Resource) string {
	if inst, _, ok := e.target(eip.Properties["InstanceId"]); ok {
		return "instance " + inst
	}
	for _, nat := range e.t.OfType("AWS::EC2::NatGateway") {
		if ref, ok := cfn.TargetID(e.t.Resources[nat].Properties["AllocationId"]); ok && ref == eipID {
			return "NAT gateway " + nat
		}
	}
	return ""
}

func (e *stackEstimate) hasEIPFor(instanceID string) bool {
	for _, id := range e.t.OfType("AWS::EC2::EIP") {
		if ref, ok := cfn.TargetID(e.t.Resources[id].Properties["InstanceId"]); ok && ref == instanceID {
			return true
		}
	}
	for _, id := range e.t.OfType("AWS::EC2::EIPAssociation") {
		if ref, ok := cfn.TargetID(e.t.Resources[id].Properties["InstanceId"]); ok && ref == instanceID {
			return true
		}
	}
	return false
}

// estimateInstance prices a plain EC2 instance; one with SourceDestCheck
// false is a NAT instance and always has a public IP.
func estimateInstance(e *stackEstimate, id string, res cfn.Resource) {
	p := e.p
	nat := false
	if v, ok := res.Properties["SourceDestCheck"]; ok {
		if b, err := e.r.Bool(v); err == nil && !b {
			nat = true
		}
	}
	label, category := "EC2 instance", "ec2"
	if nat {
		label, category = "NAT instance", "nat"
	}
	itype, err := e.instanceType(res.Properties["InstanceType"], res.Properties["LaunchTemplate"])
	switch {
	case err != nil:
		e.unpriced("ec2-instance/"+id, category, id, res.Type, label, why("InstanceType", err))
	default:
		price, ok := p.EC2.InstanceHour[itype]
		if !ok {
			e.unpriced("ec2-instance/"+id, category, id, res.Type, label+" "+itype, "instance type "+itype+" has no price in the price file")
		} else {
			e.add("ec2-instance/"+id, category, id, res.Type, label+" "+itype+" on-demand", p.HoursPerMonth, hoursUnit, price)
		}
	}
	public := nat
	if nis, ok := res.Properties["NetworkInterfaces"].([]any); ok {
		for _, ni := range nis {
			m, _ := ni.(map[string]any)
			if b, err := e.r.Bool(m["AssociatePublicIpAddress"]); err == nil && b {
				public = true
			}
		}
	}
	if public && !e.hasEIPFor(id) {
		e.add("ec2-instance/"+id+"/ipv4", category, id, res.Type, "public IPv4 of "+label, p.HoursPerMonth, hoursUnit, p.PublicIPv4)
	}
	if _, ok := res.Properties["BlockDeviceMappings"]; !ok {
		e.unpriced("ec2-instance/"+id+"/ebs", category, id, res.Type, label+" root volume", "no BlockDeviceMappings: the root volume's size and type come from the AMI, not the template")
		return
	}
	e.addEBS("ec2-instance/"+id+"/ebs", category, id, res.Type, label+" EBS", res.Properties["BlockDeviceMappings"], 1)
}

// instanceType reads a literal instance type, else the one of the launch
// template the resource points at.
func (e *stackEstimate) instanceType(direct, launchTemplate any) (string, error) {
	if direct != nil {
		return e.r.String(direct)
	}
	data, err := e.launchTemplateData(launchTemplate)
	if err != nil {
		return "", err
	}
	return e.r.String(data["InstanceType"])
}

// launchTemplateData follows a LaunchTemplateSpecification to the
// AWS::EC2::LaunchTemplate in this template.
func (e *stackEstimate) launchTemplateData(spec any) (map[string]any, error) {
	m, _ := spec.(map[string]any)
	if m == nil {
		return nil, &cfn.ErrUnresolved{What: "no instance type and no launch template"}
	}
	ref := m["LaunchTemplateId"]
	if ref == nil {
		ref = m["LaunchTemplateName"]
	}
	_, lt, ok := e.target(ref)
	if !ok || lt.Type != "AWS::EC2::LaunchTemplate" {
		return nil, &cfn.ErrUnresolved{What: "launch template not in this stack"}
	}
	data, _ := lt.Properties["LaunchTemplateData"].(map[string]any)
	if data == nil {
		return nil, &cfn.ErrUnresolved{What: "launch template without LaunchTemplateData"}
	}
	return data, nil
}

// addEBS prices the gp2/gp3 volumes of block device mappings for n
// instances, one line per volume type.
func (e *stackEstimate) addEBS(key, category, id, typ, label string, mappings any, n float64) {
	list, _ := mappings.([]any)
	gb := map[string]float64{}
	for _, bdm := range list {
		m, _ := bdm.(map[string]any)
		ebs, _ := m["Ebs"].(map[string]any)
		if ebs == nil {
			continue // instance store or NoDevice
		}
		size, err := e.r.Number(ebs["VolumeSize"])
		if err != nil {
			e.unpriced(key, category, id, typ, label, why("VolumeSize", err))
			return
		}
		vt := "gp2" // EC2's default volume type
		if v, ok := ebs["VolumeType"]; ok {
			vt, _ = e.r.String(v)
		}
		if _, ok := e.ebsPrice(vt); !ok {
			e.unpriced(key, category, id, typ, label+" "+vt, "EBS volume type "+vt+" has no price in the price file")
			return
		}
		gb[vt] += size
	}
	for _, vt := range slices.Sorted(maps.Keys(gb)) {
		price, _ := e.ebsPrice(vt)
		desc := fmt.Sprintf("%s: %s GB %s x %s instances", label, fmtQty(gb[vt]), vt, fmtQty(n))
		e.add(key+"/"+vt, category, id, typ, desc, gb[vt]*n, "GB-months", price)
	}
}

func (e *stackEstimate) ebsPrice(volumeType string) (float64, bool) {
	switch volumeType {
	case "gp3":
		return e.p.EBS.GP3, true
	case "gp2":
		return e.p.EBS.GP2, true
	}
	return 0, false
}

// estimateLoadBalancer prices an ALB: hourly plus one public IPv4 address per
// AZ node (one per subnet) when internet-facing.
func estimateLoadBalancer(e *stackEstimate, id string, res cfn.Resource) {
	p := e.p
	lbType := "application"
	if v, ok := res.Properties["Type"]; ok {
		lbType, _ = e.r.String(v)
	}
	if lbType != "application" {
		e.unpriced("load-balancer/"+id, "load-balancer", id, res.Type, lbType+" load balancer", "only application load balancers are in the price file")
		return
	}
	e.add("load-balancer/"+id, "load-balancer", id, res.Type, "Application Load Balancer", p.HoursPerMonth, hoursUnit, p.ALB.Hour)
	e.usagePrice("ALB capacity units", "LCU-hour", p.ALB.LCUHour)
	scheme := "internet-facing"
	if v, ok := res.Properties["Scheme"]; ok {
		scheme, _ = e.r.String(v)
	}
	if ipt, err := e.r.String(res.Properties["IpAddressType"]); err == nil && ipt == "dualstack-without-public-ipv4" {
		return
	}
	if scheme == "internal" {
		return
	}
	subnets, ok := res.Properties["Subnets"]
	if !ok {
		subnets = res.Properties["SubnetMappings"]
	}
	n, err := e.r.Count(subnets)
	if err != nil {
		e.unpriced("load-balancer/"+id+"/ipv4", "load-balancer", id, res.Type, "ALB public IPv4 per AZ", why("Subnets", err))
		return
	}
	e.add("load-balancer/"+id+"/ipv4", "load-balancer", id, res.Type, fmt.Sprintf("ALB public IPv4, %d AZ nodes", n), float64(n)*p.HoursPerMonth, "IPv4-hours", p.PublicIPv4)
}

// estimateVPCEndpoint prices interface endpoints per AZ (one ENI per subnet);
// gateway endpoints are free.
func estimateVPCEndpoint(e *stackEstimate, id string, res cfn.Resource) {
	typ := "Gateway"
	if v, ok := res.Properties["VpcEndpointType"]; ok {
		typ, _ = e.r.String(v)
	}
	if typ != "Interface" {
		return
	}
	p := e.p
	svc := serviceName(res.Properties["ServiceName"])
	n, err := e.r.Count(res.Properties["SubnetIds"])
	if err != nil {
		e.unpriced("vpc-endpoint/"+id, "vpc-endpoint", id, res.Type, "interface endpoint "+svc, why("SubnetIds", err))
		return
	}
	e.add("vpc-endpoint/"+id, "vpc-endpoint", id, res.Type, fmt.Sprintf("interface endpoint %s, %d AZs", svc, n), float64(n)*p.HoursPerMonth, "AZ-hours", p.InterfaceEndpoint.AZHour)
	e.usagePrice("interface VPC endpoint data processed", "GB", p.InterfaceEndpoint.PerGB)
}

// serviceName shows an endpoint service name; intrinsic parts become "*".
func serviceName(v any) string {
	switch t := v.(type) {
	case string:
		return t
	case map[string]any:
		if j, ok := t["Fn::Join"].([]any); ok && len(j) == 2 {
			sep, _ := j[0].(string)
			parts, _ := j[1].([]any)
			var out []string
			for _, part := range parts {
				if s, ok := part.(string); ok {
					out = append(out, s)
				} else {
					out = append(out, "*")
				}
			}
			return strings.Join(out, sep)
		}
	}
	return "(computed)"
}

func estimateBucket(e *stackEstimate, _ string, _ cfn.Resource) {
	e.usagePrice("S3 Standard storage", "GB-month", e.p.S3StandardGBMonth)
}
