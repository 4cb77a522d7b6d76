package main

import (
	"maps"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/bp/infra/internal/cfn"
)

// sgRule is one security-group rule: traffic into (ingress) or out of
// (egress) group from or to a peer group, a CIDR or a prefix list.
type sgRule struct {
	group      nodeKey
	peer       *nodeKey
	cidr       string
	prefixList string
	proto      string // "tcp", "udp", "icmp" or "-1" (all)
	from, to   int    // port range; -1..-1 with proto -1
}

// network holds the facts the flows are derived from: which drawn
// resources use which security groups and subnets, the rules, the routes.
type network struct {
	b         *builder
	groupsOf  map[string][]nodeKey // drawn node -> security groups it uses
	usersOf   map[nodeKey][]string // security group -> drawn nodes using it
	subnetsOf map[string][]nodeKey // drawn node -> subnets it runs in
	ingress   []sgRule
	egress    map[nodeKey][]sgRule
	// defaultOut is true for a group that keeps the allow-all egress rule
	// EC2 adds to a new group: CloudFormation removes it once the group has
	// an egress rule, inline or as an AWS::EC2::SecurityGroupEgress.
	defaultOut map[nodeKey]bool
	routeTable map[nodeKey][]nodeKey
	routes     map[nodeKey][]cfn.Resource // route table -> routes
}

func newNetwork(b *builder) *network {
	n := &network{b: b, groupsOf: map[string][]nodeKey{}, usersOf: map[nodeKey][]string{}, subnetsOf: map[string][]nodeKey{},
		egress: map[nodeKey][]sgRule{}, defaultOut: map[nodeKey]bool{}, routeTable: map[nodeKey][]nodeKey{}, routes: map[nodeKey][]cfn.Resource{}}
	idx := b.idx
	idx.each(func(k nodeKey, r cfn.Resource) {
		id := b.node(k)
		if id == "" {
			return
		}
		for _, g := range n.groupRefs(k, r) {
			if !slices.Contains(n.groupsOf[id], g) {
				n.groupsOf[id] = append(n.groupsOf[id], g)
				n.usersOf[g] = append(n.usersOf[g], id)
			}
		}
		for _, s := range n.subnetRefs(k, r) {
			if !slices.Contains(n.subnetsOf[id], s) {
				n.subnetsOf[id] = append(n.subnetsOf[id], s)
			}
		}
	})
	idx.each(func(k nodeKey, r cfn.Resource) {
		switch r.Type {
		case "AWS::EC2::SecurityGroup":
			for _, x := range list(r.Properties["SecurityGroupIngress"]) {
				m, _ := x.(map[string]any)
				n.ingress = append(n.ingress, n.rule(k.stack, k, m, "SourceSecurityGroupId", "CidrIp", "CidrIpv6", "SourcePrefixListId"))
			}
			out := list(r.Properties["SecurityGroupEgress"])
			if _, seen := n.defaultOut[k]; !seen {
				n.defaultOut[k] = len(out) == 0
			}
			if len(out) > 0 {
				n.defaultOut[k] = false
			}
			for _, x := range out {
				m, _ := x.(map[string]any)
				n.egress[k] = append(n.egress[k], n.rule(k.stack, k, m, "DestinationSecurityGroupId", "CidrIp", "CidrIpv6", "DestinationPrefixListId"))
			}
		case "AWS::EC2::SecurityGroupIngress", "AWS::EC2::SecurityGroupEgress":
			for _, g := range n.sgKeys(k.stack, r.Properties["GroupId"]) {
				if r.Type == "AWS::EC2::SecurityGroupIngress" {
					n.ingress = append(n.ingress, n.rule(k.stack, g, r.Properties, "SourceSecurityGroupId", "CidrIp", "CidrIpv6", "SourcePrefixListId"))
				} else {
					n.egress[g] = append(n.egress[g], n.rule(k.stack, g, r.Properties, "DestinationSecurityGroupId", "CidrIp", "CidrIpv6", "DestinationPrefixListId"))
					n.defaultOut[g] = false
				}
			}
		case "AWS::EC2::SubnetRouteTableAssociation":
			for _, s := range idx.keys(k.stack, r.Properties["SubnetId"]) {
				n.routeTable[s] = append(n.routeTable[s], idx.keys(k.stack, r.Properties["RouteTableId"])...)
			}
		case "AWS::EC2::Route":
			for _, t := range idx.keys(k.stack, r.Properties["RouteTableId"]) {
				n.routes[t] = append(n.routes[t], r)
			}
		}
	})
	return n
}

func (n *network) rule(stack string, group nodeKey, m map[string]any, peerKey, cidrKey, cidr6Key, plKey string) sgRule {
	r := sgRule{group: group, cidr: str(m, cidrKey), prefixList: str(m, plKey), proto: strings.ToLower(n.b.idx.literal(stack, m["IpProtocol"])), from: -1, to: -1}
	if r.cidr == "" {
		r.cidr = str(m, cidr6Key)
	}
	if peers := n.sgKeys(stack, m[peerKey]); len(peers) == 1 {
		r.peer = &peers[0]
	}
	switch r.proto {
	case "6":
		r.proto = "tcp"
	case "17":
		r.proto = "udp"
	case "-1", "all":
		r.proto = "-1"
	}
	if r.proto != "-1" {
		r.from, r.to = portNumber(m["FromPort"]), portNumber(m["ToPort"])
	}
	return r
}

func portNumber(v any) int {
	switch t := v.(type) {
	case float64:
		return int(t)
	case string:
		if p, err := strconv.Atoi(t); err == nil {
			return p
		}
	}
	return -1
}

// sgKeys returns the security groups a value refers to.
func (n *network) sgKeys(stack string, v any) []nodeKey {
	var out []nodeKey
	for _, k := range n.b.idx.keys(stack, v) {
		if r, ok := n.b.idx.resource(k); ok && r.Type == "AWS::EC2::SecurityGroup" {
			out = append(out, k)
		}
	}
	return out
}

// groupRefs returns the security groups a drawn resource runs with.
func (n *network) groupRefs(k nodeKey, r cfn.Resource) []nodeKey {
	p := r.Properties
	var v []any
	switch r.Type {
	case "AWS::ECS::Service":
		v = append(v, dig(p, "NetworkConfiguration", "AwsvpcConfiguration", "SecurityGroups"))
	case "AWS::AutoScaling::AutoScalingGroup":
		groups := n.launchConfigGroups(k, r)
		for _, lt := range launchTemplates(n.b.idx, k, r) {
			data := dig(lt.res.Properties, "LaunchTemplateData")
			ltGroups := []any{dig(data, "SecurityGroupIds")}
			for _, ni := range list(dig(data, "NetworkInterfaces")) {
				ltGroups = append(ltGroups, dig(ni, "Groups"))
			}
			groups = append(groups, n.sgKeys(lt.key.stack, ltGroups)...)
		}
		return groups
	case "AWS::RDS::DBInstance":
		v = append(v, p["VPCSecurityGroups"])
	case "AWS::RDS::DBCluster":
		v = append(v, p["VpcSecurityGroupIds"])
	case "AWS::ElastiCache::ReplicationGroup", "AWS::ElastiCache::ServerlessCache":
		v = append(v, p["SecurityGroupIds"])
	case "AWS::ElastiCache::CacheCluster":
		v = append(v, p["VpcSecurityGroupIds"])
	case "AWS::Lambda::Function":
		v = append(v, dig(p, "VpcConfig", "SecurityGroupIds"))
	case "AWS::ElasticLoadBalancingV2::LoadBalancer":
		v = append(v, p["SecurityGroups"])
	case "AWS::EC2::VPCEndpoint":
		v = append(v, p["SecurityGroupIds"])
	case "AWS::EC2::Instance":
		v = append(v, p["SecurityGroupIds"])
		for _, ni := range list(p["NetworkInterfaces"]) {
			v = append(v, dig(ni, "GroupSet"))
		}
	}
	return n.sgKeys(k.stack, v)
}

func (n *network) launchConfigGroups(k nodeKey, r cfn.Resource) []nodeKey {
	var out []nodeKey
	for _, lc := range n.b.idx.keys(k.stack, r.Properties["LaunchConfigurationName"]) {
		if res, ok := n.b.idx.resource(lc); ok {
			out = append(out, n.sgKeys(lc.stack, res.Properties["SecurityGroups"])...)
		}
	}
	return out
}

type keyed struct {
	key nodeKey
	res cfn.Resource
}

// launchTemplates returns the launch templates an ASG launches from.
func launchTemplates(idx *stageIndex, k nodeKey, r cfn.Resource) []keyed {
	var out []keyed
	for _, v := range []any{
		dig(r.Properties, "LaunchTemplate"),
		dig(r.Properties, "MixedInstancesPolicy", "LaunchTemplate", "LaunchTemplateSpecification"),
	} {
		for _, lt := range idx.keys(k.stack, v) {
			if res, ok := idx.resource(lt); ok && res.Type == "AWS::EC2::LaunchTemplate" {
				out = append(out, keyed{lt, res})
			}
		}
	}
	return out
}

// subnetRefs returns the subnets a drawn resource runs in.
func (n *network) subnetRefs(k nodeKey, r cfn.Resource) []nodeKey {
	p := r.Properties
	var v any
	switch r.Type {
	case "AWS::ECS::Service":
		v = dig(p, "NetworkConfiguration", "AwsvpcConfiguration", "Subnets")
	case "AWS::AutoScaling::AutoScalingGroup":
		v = p["VPCZoneIdentifier"]
	case "AWS::Lambda::Function":
		v = dig(p, "VpcConfig", "SubnetIds")
	case "AWS::ElasticLoadBalancingV2::LoadBalancer":
		v = []any{p["Subnets"], p["SubnetMappings"]}
	case "AWS::EC2::VPCEndpoint":
		v = p["SubnetIds"]
	default:
		return nil
	}
	var out []nodeKey
	for _, s := range n.b.idx.keys(k.stack, v) {
		if res, ok := n.b.idx.resource(s); ok && res.Type == "AWS::EC2::Subnet" {
			out = append(out, s)
		}
	}
	return out
}

// portLabel names a port range: "443", "1024-65535", "udp 53", "all".
func portLabel(proto string, from, to int) string {
	if proto == "-1" {
		return "all"
	}
	p := strconv.Itoa(from)
	if to != from {
		p += "-" + strconv.Itoa(to)
	}
	if proto != "tcp" {
		p = proto + " " + p
	}
	return p
}

// overlap returns the ports two rules both allow.
func overlap(a, b sgRule) (proto string, from, to int, ok bool) {
	switch {
	case a.proto == "-1" && b.proto == "-1":
		return "-1", -1, -1, true
	case a.proto == "-1":
		return b.proto, b.from, b.to, true
	case b.proto == "-1":
		return a.proto, a.from, a.to, true
	case a.proto != b.proto:
		return "", 0, 0, false
	}
	from, to = max(a.from, b.from), min(a.to, b.to)
	return a.proto, from, to, from <= to
}

func isAnywhere(cidr string) bool { return cidr == "0.0.0.0/0" || cidr == "::/0" }

// egressTo returns the parts of want that the groups of a sender let out
// towards the destination groups (a rule naming one of them, or anywhere).
func (n *network) egressTo(sender []nodeKey, dest []nodeKey, want sgRule) []sgRule {
	var out []sgRule
	for _, g := range sender {
		if n.defaultOut[g] {
			return []sgRule{want}
		}
		for _, e := range n.egress[g] {
			if !(isAnywhere(e.cidr) || (e.peer != nil && slices.Contains(dest, *e.peer))) {
				continue
			}
			if proto, from, to, ok := overlap(want, e); ok {
				out = append(out, sgRule{proto: proto, from: from, to: to})
			}
		}
	}
	return out
}

// internetPorts returns what a sender may send to anywhere.
func (n *network) internetPorts(sender string) []sgRule {
	var out []sgRule
	for _, g := range n.groupsOf[sender] {
		if n.defaultOut[g] {
			return []sgRule{{proto: "-1", from: -1, to: -1}}
		}
		for _, e := range n.egress[g] {
			if isAnywhere(e.cidr) {
				out = append(out, e)
			}
		}
	}
	return out
}

// defaultRoutes returns the NATs and internet gateways that the default
// routes of a node's subnets point at.
func (n *network) defaultRoutes(node string) (nats []string, igw bool) {
	for _, s := range n.subnetsOf[node] {
		for _, t := range n.routeTable[s] {
			for _, rt := range n.routes[t] {
				if !isAnywhere(str(rt.Properties, "DestinationCidrBlock")) {
					continue
				}
				for _, k := range n.b.idx.keys(t.stack, []any{rt.Properties["NatGatewayId"], rt.Properties["InstanceId"]}) {
					if id := n.b.node(k); id != "" && !slices.Contains(nats, id) {
						nats = append(nats, id)
					}
				}
				for _, k := range n.b.idx.keys(t.stack, rt.Properties["GatewayId"]) {
					if r, ok := n.b.idx.resource(k); ok && r.Type == "AWS::EC2::InternetGateway" {
						igw = true
					}
				}
			}
		}
	}
	slices.Sort(nats)
	return nats, igw
}

func (n *network) routeTablesOf(node string) []nodeKey {
	var out []nodeKey
	for _, s := range n.subnetsOf[node] {
		out = append(out, n.routeTable[s]...)
	}
	return out
}

// networkFlows draws the flows security groups allow between resources,
// from the internet to internet-facing load balancers, and out through
// NATs and gateway endpoints.
func (b *builder) networkFlows() {
	n := b.net
	for _, in := range n.ingress {
		dests := n.usersOf[in.group]
		if in.peer != nil {
			for _, from := range n.usersOf[*in.peer] {
				for _, to := range dests {
					if from == to {
						continue
					}
					for _, p := range n.egressTo(n.groupsOf[from], n.groupsOf[to], in) {
						b.flow(from, to, portLabel(p.proto, p.from, p.to))
					}
				}
			}
			continue
		}
		if isAnywhere(in.cidr) {
			for _, to := range dests {
				if b.internetFacing(to) {
					b.flow(b.outside(kindInternet, kindInternet.label), to, portLabel(in.proto, in.from, in.to))
				}
			}
		}
	}
	b.gatewayEndpointFlows()
	b.natFlows()
	b.publicURLFlows()
}

// internetFacing is true for load balancers with an internet-facing scheme.
func (b *builder) internetFacing(node string) bool {
	for _, k := range b.members[node] {
		r, _ := b.idx.resource(k)
		return r.Type == "AWS::ElasticLoadBalancingV2::LoadBalancer" && str(r.Properties, "Scheme") == "internet-facing"
	}
	return false
}

// awsPrefixLists are the AWS-managed prefix lists of gateway-endpoint
// services in the regions the app deploys to (us-east-1), as listed by
// `aws ec2 describe-managed-prefix-lists` there: com.amazonaws.us-east-1.s3.
var awsPrefixLists = map[string]string{"pl-63a5400a": "s3"}

// gatewayEndpointFlows draws egress to a service's prefix list as a flow to
// the gateway endpoint of that service on the sender's route tables.
func (b *builder) gatewayEndpointFlows() {
	n := b.net
	b.idx.each(func(k nodeKey, r cfn.Resource) {
		gw := b.node(k)
		if gw == "" || b.nodes[gw].Kind != kindGateway.name {
			return
		}
		svc := endpointService(b.idx.literal(k.stack, r.Properties["ServiceName"]))
		tables := b.idx.keys(k.stack, r.Properties["RouteTableIds"])
		for _, from := range slices.Sorted(maps.Keys(n.groupsOf)) {
			if !overlapsKeys(n.routeTablesOf(from), tables) {
				continue
			}
			for _, g := range n.groupsOf[from] {
				for _, e := range n.egress[g] {
					if awsPrefixLists[e.prefixList] == svc {
						b.flow(from, gw, portLabel(e.proto, e.from, e.to))
					}
				}
			}
		}
	}, "AWS::EC2::VPCEndpoint")
}

// natFlows draws what a resource may send to anywhere as a flow to the NAT
// its subnets route through, and on from the NAT to the internet.
func (b *builder) natFlows() {
	n := b.net
	for _, from := range b.computeInVPC() {
		nats, _ := n.defaultRoutes(from)
		if len(nats) == 0 {
			continue
		}
		for _, p := range n.internetPorts(from) {
			for _, nat := range nats {
				label := portLabel(p.proto, p.from, p.to)
				b.flow(from, nat, label)
				b.flow(nat, b.outside(kindInternet, kindInternet.label), label)
			}
		}
	}
}

// apiClientKeys are the settings whose value is the URL of the app's public
// API that the process calls: the GPU worker's WORKER_API_BASE_URL (its
// protocol is POST <base>/api/worker/<verb>) and the frontend's
// NEXT_PUBLIC_API_BASE_URL / NEXT_PUBLIC_API_URL (<base>/api, also called by
// server-side rendering).
var apiClientKeys = []string{"WORKER_API_BASE_URL", "NEXT_PUBLIC_API_BASE_URL", "NEXT_PUBLIC_API_URL"}

// publicURLKeys are the settings with which a service behind a load
// balancer declares its own public URL (Laravel's APP_URL).
var publicURLKeys = []string{"APP_URL"}

var envLine = regexp.MustCompile(`(?m)^\s*(?:export\s+)?([A-Z][A-Z0-9_]*)=["']?(https?://[^\s"']+)`)

// publicURLFlows draws the calls a resource makes to the app's public URL:
// out of the VPC (through its NAT) and back in through the internet-facing
// load balancer whose targets serve that host.
func (b *builder) publicURLFlows() {
	n := b.net
	lbHosts := map[string][]string{} // load balancer -> hosts its targets declare
	for lb, targets := range b.lbTargets() {
		for _, t := range targets {
			for _, u := range b.settings(t, publicURLKeys) {
				if !slices.Contains(lbHosts[lb], u.Host) {
					lbHosts[lb] = append(lbHosts[lb], u.Host)
				}
			}
		}
	}
	for _, from := range b.computeInVPC() {
		for _, u := range b.settings(from, apiClientKeys) {
			port := u.Port()
			if port == "" {
				port = map[string]string{"https": "443", "http": "80"}[u.Scheme]
			}
			want := sgRule{proto: "tcp", from: portNumber(port), to: portNumber(port)}
			nats, igw := n.defaultRoutes(from)
			if len(nats) == 0 && !igw {
				continue // no way out of the VPC
			}
			if !n.allowsAnywhere(n.internetPorts(from), want) {
				continue
			}
			for _, lb := range slices.Sorted(maps.Keys(lbHosts)) {
				if !slices.Contains(lbHosts[lb], u.Host) || !b.internetFacing(lb) || !n.acceptsAnywhere(lb, want) {
					continue
				}
				via := ""
				if len(nats) > 0 {
					via = "via NAT"
				}
				b.flow(from, lb, port, via)
			}
		}
	}
}

// computeInVPC returns the services, ASGs and Lambdas that run in subnets:
// the resources that start connections of their own.
func (b *builder) computeInVPC() []string {
	var out []string
	for _, id := range slices.Sorted(maps.Keys(b.net.subnetsOf)) {
		switch b.nodes[id].Kind {
		case kindECS.name, kindASG.name, kindLambda.name:
			out = append(out, id)
		}
	}
	return out
}

func (n *network) allowsAnywhere(out []sgRule, want sgRule) bool {
	for _, e := range out {
		if _, _, _, ok := overlap(e, want); ok {
			return true
		}
	}
	return false
}

func (n *network) acceptsAnywhere(node string, want sgRule) bool {
	for _, in := range n.ingress {
		if isAnywhere(in.cidr) && slices.Contains(n.groupsOf[node], in.group) {
			if _, _, _, ok := overlap(in, want); ok {
				return true
			}
		}
	}
	return false
}

// settings returns the URLs a drawn compute resource is configured with
// under the given keys: container environment of an ECS service's task
// definition, KEY=url lines of a launch template's user data, a Lambda's
// environment variables.
func (b *builder) settings(node string, keys []string) []*url.URL {
	var out []*url.URL
	add := func(key, value string) {
		if !slices.Contains(keys, key) {
			return
		}
		if u, err := url.Parse(value); err == nil && u.Host != "" && !slices.ContainsFunc(out, func(x *url.URL) bool { return x.String() == u.String() }) {
			out = append(out, u)
		}
	}
	for _, k := range b.members[node] {
		r, _ := b.idx.resource(k)
		switch r.Type {
		case "AWS::ECS::Service":
			for _, td := range b.taskDefinitions(k, r) {
				for _, c := range list(td.res.Properties["ContainerDefinitions"]) {
					for _, e := range list(dig(c, "Environment")) {
						name, _ := dig(e, "Name").(string)
						add(name, b.idx.literal(td.key.stack, dig(e, "Value")))
					}
				}
			}
		case "AWS::AutoScaling::AutoScalingGroup":
			for _, lt := range launchTemplates(b.idx, k, r) {
				for _, s := range literalStrings(dig(lt.res.Properties, "LaunchTemplateData", "UserData")) {
					for _, m := range envLine.FindAllStringSubmatch(s, -1) {
						add(m[1], m[2])
					}
				}
			}
		case "AWS::Lambda::Function":
			vars, _ := dig(r.Properties, "Environment", "Variables").(map[string]any)
			for name, v := range vars {
				add(name, b.idx.literal(k.stack, v))
			}
		}
	}
	slices.SortFunc(out, func(a, c *url.URL) int { return strings.Compare(a.String(), c.String()) })
	return out
}

// literalStrings returns every plain string inside a value.
func literalStrings(v any) []string {
	var out []string
	switch t := v.(type) {
	case string:
		out = append(out, t)
	case []any:
		for _, x := range t {
			out = append(out, literalStrings(x)...)
		}
	case map[string]any:
		for _, k := range slices.Sorted(maps.Keys(t)) {
			out = append(out, literalStrings(t[k])...)
		}
	}
	return out
}

func overlapsKeys(a, b []nodeKey) bool {
	for _, x := range a {
		if slices.Contains(b, x) {
			return true
		}
	}
	return false
}
