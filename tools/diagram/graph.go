package main

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/bp/infra/bootcontract"
	"github.com/bp/infra/internal/cfn"
)

// EdgeKind says what an edge means. An edge is never drawn because two
// resources merely share something (a security group, a secret, a cluster).
type EdgeKind string

const (
	// Network is traffic between resources: a security-group rule with a
	// peer that the sender's egress allows, a load balancer forwarding to a
	// target, a CloudFront origin, egress through a NAT or gateway endpoint.
	// Labels are ports.
	Network EdgeKind = "network"
	// Access is an API call on a resource's data that an IAM policy of the
	// caller's role allows (read, write, publish, ...), and log delivery.
	Access EdgeKind = "access"
	// Event is an invocation or notification: alarm actions, EventBridge
	// targets, SNS subscriptions, Lambda permissions, custom resources.
	Event EdgeKind = "event"
)

// Node is a drawn resource, a group of them (a stack's alarms, interface
// endpoints that share security groups) or something outside the stacks
// (the internet, CloudWatch metrics); Stack is "" for those.
type Node struct {
	ID, Stack, Kind string
	Name            string // physical name where the template has one
	Label           string
	Shape           string
}

// Edge is one flow between two nodes, labelled with ports (network) or
// verbs (access, event).
type Edge struct {
	From, To string
	Kind     EdgeKind
	Labels   []string
}

// Diagram is the graph of one stage, grouped by stack.
type Diagram struct {
	Stage  string
	Stacks []string
	Nodes  []Node
	Edges  []Edge
}

type edgeKey struct {
	from, to string
	kind     EdgeKind
}

type edgeFacts struct {
	ports map[string]bool
	notes map[string]bool
}

// builder collects the nodes and flows of a stage.
type builder struct {
	idx    *stageIndex
	nodes  map[string]*Node
	nodeOf map[nodeKey]string
	// members are the resources behind a node, in stack and id order.
	members map[string][]nodeKey
	edges   map[edgeKey]*edgeFacts
	net     *network
}

// buildDiagram builds the diagram of the stacks of one stage.
func buildDiagram(stage string, stacks []cfn.Stack) Diagram {
	b := &builder{idx: newStageIndex(stacks), nodes: map[string]*Node{}, nodeOf: map[nodeKey]string{}, members: map[string][]nodeKey{}, edges: map[edgeKey]*edgeFacts{}}
	b.addResourceNodes()
	b.net = newNetwork(b)
	b.networkFlows()
	b.loadBalancerFlows()
	b.cloudFrontFlows()
	b.grants()
	b.events()
	return b.diagram(stage)
}

func (b *builder) addResourceNodes() {
	alarms := map[string]int{}
	endpointGroups := map[string][]nodeKey{}
	b.idx.each(func(k nodeKey, r cfn.Resource) {
		if r.Type == "AWS::EC2::VPCEndpoint" {
			if strings.EqualFold(str(r.Properties, "VpcEndpointType"), "Interface") {
				group := k.stack + "|" + fmt.Sprint(b.idx.keys(k.stack, r.Properties["SecurityGroupIds"]))
				endpointGroups[group] = append(endpointGroups[group], k)
				return
			}
			svc := endpointService(b.idx.literal(k.stack, r.Properties["ServiceName"]))
			b.addNode(k, kindGateway, svc, kindGateway.label+"\\n"+svc)
			return
		}
		kd, ok := classify(k.id, r)
		if !ok {
			return
		}
		if kd.name == kindAlarms.name {
			alarms[k.stack]++
			b.member(k, nodeID(k.stack, "alarms"))
			return
		}
		name := displayName(k.id, r, kd)
		label := kd.label + "\\n" + name
		if kd.name == kindASG.name {
			if slug := tagValue(r, bootcontract.TagFleetSlug); slug != "" {
				label += "\\nfleet " + slug
			}
		}
		b.addNode(k, kd, name, label)
	})
	for stack, n := range alarms {
		id := nodeID(stack, "alarms")
		b.nodes[id] = &Node{ID: id, Stack: stack, Kind: kindAlarms.name, Name: stack, Label: fmt.Sprintf("%s\\n%d", kindAlarms.label, n), Shape: kindAlarms.shape}
	}
	for _, group := range slices.Sorted(maps.Keys(endpointGroups)) {
		members := endpointGroups[group]
		var services []string
		for _, k := range members {
			r, _ := b.idx.resource(k)
			services = append(services, endpointService(b.idx.literal(k.stack, r.Properties["ServiceName"])))
		}
		sort.Strings(services)
		id := nodeID(members[0].stack, "endpoints_"+members[0].id)
		b.nodes[id] = &Node{ID: id, Stack: members[0].stack, Kind: kindEndpoints.name, Name: strings.Join(services, ", "),
			Label: kindEndpoints.label + "\\n" + wrap(services, 3), Shape: kindEndpoints.shape}
		for _, k := range members {
			b.member(k, id)
		}
	}
}

func (b *builder) addNode(k nodeKey, kd kind, name, label string) string {
	id := nodeID(k.stack, k.id)
	b.member(k, id)
	b.nodes[id] = &Node{ID: id, Stack: k.stack, Kind: kd.name, Name: name, Label: label, Shape: kd.shape}
	return id
}

func (b *builder) member(k nodeKey, id string) {
	b.nodeOf[k] = id
	b.members[id] = append(b.members[id], k)
}

// outside returns the node of something outside the stacks, creating it.
func (b *builder) outside(kd kind, name string) string {
	id := nodeID("outside", kd.name+"_"+name)
	if _, ok := b.nodes[id]; !ok {
		label := kd.label
		if name != kd.label {
			label += "\\n" + name
		}
		b.nodes[id] = &Node{ID: id, Kind: kd.name, Name: name, Label: label, Shape: kd.shape}
	}
	return id
}

// node returns the diagram node of a resource, "" when it is not drawn.
func (b *builder) node(k nodeKey) string { return b.nodeOf[k] }

// nodesOf returns the drawn nodes a property value refers to.
func (b *builder) nodesOf(stack string, v any) []string {
	var out []string
	for _, k := range b.idx.keys(stack, v) {
		if id := b.node(k); id != "" && !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}

func (b *builder) add(from, to string, kind EdgeKind, port string, notes ...string) {
	if from == "" || to == "" || (from == to && kind != Access) {
		return
	}
	k := edgeKey{from, to, kind}
	f := b.edges[k]
	if f == nil {
		f = &edgeFacts{ports: map[string]bool{}, notes: map[string]bool{}}
		b.edges[k] = f
	}
	if port != "" {
		f.ports[port] = true
	}
	for _, n := range notes {
		if n != "" {
			f.notes[n] = true
		}
	}
}

func (b *builder) flow(from, to, port string, notes ...string) {
	b.add(from, to, Network, port, notes...)
}
func (b *builder) access(from, to, verb string) { b.add(from, to, Access, "", verb) }
func (b *builder) event(from, to, what string)  { b.add(from, to, Event, "", what) }

func (b *builder) diagram(stage string) Diagram {
	d := Diagram{Stage: stage}
	for _, st := range b.idx.stacks {
		d.Stacks = append(d.Stacks, st.Name)
	}
	for _, id := range slices.Sorted(maps.Keys(b.nodes)) {
		d.Nodes = append(d.Nodes, *b.nodes[id])
	}
	sort.SliceStable(d.Nodes, func(i, j int) bool { return d.Nodes[i].Stack < d.Nodes[j].Stack })
	for k, f := range b.edges {
		d.Edges = append(d.Edges, Edge{From: k.from, To: k.to, Kind: k.kind, Labels: f.labels()})
	}
	sort.Slice(d.Edges, func(i, j int) bool {
		a, c := d.Edges[i], d.Edges[j]
		if a.From != c.From {
			return a.From < c.From
		}
		if a.To != c.To {
			return a.To < c.To
		}
		return a.Kind < c.Kind
	})
	return d
}

// labels lists ports first (in numeric order, on one line), then notes;
// "read" and "write" on the same edge become "read/write".
func (f *edgeFacts) labels() []string {
	var out []string
	if len(f.ports) > 0 {
		ports := slices.Collect(maps.Keys(f.ports))
		sort.Slice(ports, func(i, j int) bool { return portLess(ports[i], ports[j]) })
		out = append(out, strings.Join(ports, ", "))
	}
	notes := maps.Clone(f.notes)
	if notes["read"] && notes["write"] {
		delete(notes, "read")
		delete(notes, "write")
		notes["read/write"] = true
	}
	return append(out, slices.Sorted(maps.Keys(notes))...)
}

func portLess(a, b string) bool {
	na, errA := strconv.Atoi(strings.SplitN(a, "-", 2)[0])
	nb, errB := strconv.Atoi(strings.SplitN(b, "-", 2)[0])
	if errA == nil && errB == nil && na != nb {
		return na < nb
	}
	if (errA == nil) != (errB == nil) {
		return errA == nil
	}
	return a < b
}

// displayName prefers a literal physical name.
func displayName(id string, r cfn.Resource, k kind) string {
	for _, p := range k.props {
		if s, ok := r.Properties[p].(string); ok && s != "" {
			return s
		}
	}
	switch k.name {
	case kindBudget.name:
		if s, ok := dig(r.Properties, "Budget", "BudgetName").(string); ok {
			return s
		}
	case kindSchedule.name:
		if s := str(r.Properties, "Recurrence"); s != "" {
			if tz := str(r.Properties, "TimeZone"); tz != "" {
				s += " " + tz
			}
			return s
		}
	}
	return shortID(id)
}

func tagValue(r cfn.Resource, key string) string {
	for _, t := range list(r.Properties["Tags"]) {
		m, _ := t.(map[string]any)
		if m["Key"] == key {
			s, _ := m["Value"].(string)
			return s
		}
	}
	return ""
}

// endpointService shortens com.amazonaws.<region>.ecr.api to ecr.api.
func endpointService(name string) string {
	parts := strings.Split(name, ".")
	if len(parts) > 3 && parts[0] == "com" && parts[1] == "amazonaws" {
		return strings.Join(parts[3:], ".")
	}
	return name
}

// wrap joins items, n per line.
func wrap(items []string, n int) string {
	var lines []string
	for i := 0; i < len(items); i += n {
		lines = append(lines, strings.Join(items[i:min(i+n, len(items))], ", "))
	}
	return strings.Join(lines, "\\n")
}

// nodeID is a DOT-safe id for a resource of a stack.
func nodeID(stack, id string) string {
	var b strings.Builder
	for _, r := range stack + "__" + id {
		if (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') || r == '_' {
			b.WriteRune(r)
		} else {
			b.WriteRune('_')
		}
	}
	return b.String()
}
