package main

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/bp/infra/tools/internal/cfn"
)

// nodeKey names a resource across the stacks of a stage.
type nodeKey struct{ stack, id string }

// resource is one template resource with its outgoing references resolved
// across stacks (exports and SSM parameters).
type resource struct {
	key  nodeKey
	res  cfn.Resource
	kind kind
	main bool
	out  []nodeKey
}

// Node is a main resource (or a stack's alarms) in the diagram.
type Node struct {
	ID, Stack, Label, Shape string
	Kind                    string
}

// Edge links two nodes. InVPC marks "runs in this VPC" edges.
type Edge struct {
	From, To string
	InVPC    bool
}

// Diagram is the graph of one stage, grouped by stack.
type Diagram struct {
	Stage  string
	Stacks []string
	Nodes  []Node
	Edges  []Edge
}

const maxDepth = 4

type graph struct {
	res    map[nodeKey]*resource
	nodeOf map[nodeKey]string // main resource -> diagram node id
	alarms map[string]int     // stack -> alarm count
}

// buildDiagram builds the diagram of the stacks of one stage.
func buildDiagram(stage string, stacks []cfn.Stack) Diagram {
	g := &graph{res: map[nodeKey]*resource{}, nodeOf: map[nodeKey]string{}, alarms: map[string]int{}}
	exports, ssmNames := index(stacks)
	d := Diagram{Stage: stage}
	nodes := map[string]Node{}
	for _, st := range stacks {
		d.Stacks = append(d.Stacks, st.Name)
		t := st.Template
		for _, id := range t.LogicalIDs() {
			r := t.Resources[id]
			key := nodeKey{st.Name, id}
			k, main := classify(id, r)
			var refs cfn.Refs
			if main && k.name == kindAlarms.name {
				refs = cfn.CollectRefs(pick(r.Properties, alarmActionProps))
			} else {
				refs = cfn.CollectRefs(r.Properties)
			}
			g.res[key] = &resource{key: key, res: r, kind: k, main: main, out: resolveRefs(st, refs, exports, ssmNames)}
			if !main {
				continue
			}
			if k.name == kindAlarms.name {
				g.alarms[st.Name]++
				g.nodeOf[key] = nodeID(st.Name, "alarms")
				continue
			}
			nid := nodeID(st.Name, id)
			g.nodeOf[key] = nid
			nodes[nid] = Node{ID: nid, Stack: st.Name, Label: k.label + "\\n" + displayName(id, r, k), Shape: k.shape, Kind: k.name}
		}
	}
	for stack, n := range g.alarms {
		nid := nodeID(stack, "alarms")
		nodes[nid] = Node{ID: nid, Stack: stack, Label: fmt.Sprintf("%s\\n%d", kindAlarms.label, n), Shape: kindAlarms.shape, Kind: kindAlarms.name}
	}
	edges := g.edges()
	for _, id := range slices.Sorted(maps.Keys(nodes)) {
		d.Nodes = append(d.Nodes, nodes[id])
	}
	sort.Slice(d.Nodes, func(i, j int) bool {
		if d.Nodes[i].Stack != d.Nodes[j].Stack {
			return d.Nodes[i].Stack < d.Nodes[j].Stack
		}
		return d.Nodes[i].ID < d.Nodes[j].ID
	})
	d.Edges = edges
	return d
}

// index maps export names and SSM parameter names to the resources behind
// them, so references across stacks become edges.
func index(stacks []cfn.Stack) (map[string][]nodeKey, map[string][]nodeKey) {
	exports, ssm := map[string][]nodeKey{}, map[string][]nodeKey{}
	for _, st := range stacks {
		t := st.Template
		for _, name := range slices.Sorted(maps.Keys(t.Outputs)) {
			o := t.Outputs[name]
			if o.Export == nil {
				continue
			}
			exp, ok := o.Export.Name.(string)
			if !ok {
				continue
			}
			for _, id := range cfn.CollectRefs(o.Value).IDs {
				if _, ok := t.Resources[id]; ok {
					exports[exp] = append(exports[exp], nodeKey{st.Name, id})
				}
			}
		}
		for _, id := range t.OfType("AWS::SSM::Parameter") {
			if name, ok := t.Resources[id].Properties["Name"].(string); ok {
				ssm[name] = append(ssm[name], nodeKey{st.Name, id})
			}
		}
	}
	return exports, ssm
}

// resolveRefs turns a resource's references into resource keys: same-stack
// ids, imported exports, SSM-typed parameters and {{resolve:ssm:...}}.
func resolveRefs(st cfn.Stack, refs cfn.Refs, exports, ssm map[string][]nodeKey) []nodeKey {
	seen := map[nodeKey]bool{}
	for _, id := range refs.IDs {
		if _, ok := st.Template.Resources[id]; ok {
			seen[nodeKey{st.Name, id}] = true
		} else if p, ok := st.Template.Parameters[id]; ok {
			if name, ok := p.Default.(string); ok {
				for _, k := range ssm[name] {
					seen[k] = true
				}
			}
		}
	}
	for _, name := range refs.Imports {
		for _, k := range exports[name] {
			seen[k] = true
		}
	}
	for _, name := range refs.SSM {
		for _, k := range ssm[name] {
			seen[k] = true
		}
	}
	out := make([]nodeKey, 0, len(seen))
	for k := range seen {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return less(out[i], out[j]) })
	return out
}

func less(a, b nodeKey) bool {
	if a.stack != b.stack {
		return a.stack < b.stack
	}
	return a.id < b.id
}

// reach walks outgoing references from start up to maxDepth, stopping at main
// resources (returned, not walked through) and skipping opaque ones.
func (g *graph) reach(start nodeKey, toVPC bool) map[nodeKey]bool {
	seen := map[nodeKey]bool{start: true}
	frontier := []nodeKey{start}
	for depth := 0; depth < maxDepth && len(frontier) > 0; depth++ {
		var next []nodeKey
		for _, k := range frontier {
			for _, o := range g.res[k].out {
				r := g.res[o]
				if seen[o] || r == nil {
					continue
				}
				if isOpaque(r.res) && !(toVPC && plumbingTypes[r.res.Type]) {
					continue
				}
				seen[o] = true
				if !r.main {
					next = append(next, o)
				}
			}
		}
		frontier = next
	}
	delete(seen, start)
	return seen
}

// edges infers the diagram's edges:
//   - a main resource that references another (directly or through resources
//     that are not main) points at it; reaching a VPC makes an "in VPC" edge;
//   - main resources that share a resource (a target group, a security group
//     that another one allows in) are linked in request-flow order, as are
//     the main resources a connector (listener, subscription, ingress rule)
//     ties together. Links between two of the same rank are left out.
func (g *graph) edges() []Edge {
	keys := make([]nodeKey, 0, len(g.res))
	for k := range g.res {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return less(keys[i], keys[j]) })

	set := map[Edge]bool{}
	owners := map[nodeKey][]nodeKey{}
	for _, k := range keys {
		r := g.res[k]
		if !r.main {
			continue
		}
		for _, o := range sortedNodeKeys(g.reach(k, false)) {
			if g.res[o].main {
				if g.res[o].kind.name != kindVPC.name {
					g.addEdge(set, k, o, false)
				}
				continue
			}
			owners[o] = append(owners[o], k)
		}
		if r.kind.name == kindVPC.name || r.kind.name == kindAlarms.name {
			continue
		}
		for _, o := range sortedNodeKeys(g.reach(k, true)) {
			if g.res[o].main && g.res[o].kind.name == kindVPC.name {
				g.addEdge(set, k, o, true)
			}
		}
	}
	for _, k := range keys {
		r := g.res[k]
		if r.main || isOpaque(r.res) {
			continue
		}
		var members []nodeKey
		if len(owners[k]) == 0 {
			// A connector: nothing main owns it, it ties things together.
			for _, o := range sortedNodeKeys(g.reach(k, false)) {
				if g.res[o].main {
					members = append(members, o)
				} else {
					members = append(members, owners[o]...)
				}
			}
		} else {
			members = owners[k]
		}
		g.linkByRank(set, members)
	}
	edges := make([]Edge, 0, len(set))
	for e := range set {
		edges = append(edges, e)
	}
	sort.Slice(edges, func(i, j int) bool {
		if edges[i].From != edges[j].From {
			return edges[i].From < edges[j].From
		}
		return edges[i].To < edges[j].To
	})
	return edges
}

func (g *graph) linkByRank(set map[Edge]bool, members []nodeKey) {
	for _, a := range members {
		for _, b := range members {
			ka, kb := g.res[a].kind, g.res[b].kind
			if ka.name == kindVPC.name || kb.name == kindVPC.name || ka.rank >= kb.rank {
				continue
			}
			g.addEdge(set, a, b, false)
		}
	}
}

func (g *graph) addEdge(set map[Edge]bool, from, to nodeKey, inVPC bool) {
	f, t := g.nodeOf[from], g.nodeOf[to]
	if f == "" || t == "" || f == t {
		return
	}
	set[Edge{From: f, To: t, InVPC: inVPC}] = true
}

func sortedNodeKeys(m map[nodeKey]bool) []nodeKey {
	out := make([]nodeKey, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return less(out[i], out[j]) })
	return out
}

func pick(m map[string]any, keys []string) map[string]any {
	out := map[string]any{}
	for _, k := range keys {
		if v, ok := m[k]; ok {
			out[k] = v
		}
	}
	return out
}

// displayName prefers a literal physical name; an ASG shows its fleet.
func displayName(id string, r cfn.Resource, k kind) string {
	name := shortID(id)
	for _, p := range k.props {
		if s, ok := r.Properties[p].(string); ok && s != "" {
			name = s
			break
		}
	}
	if k.name == kindASG.name {
		if tags, ok := r.Properties["Tags"].([]any); ok {
			for _, t := range tags {
				m, _ := t.(map[string]any)
				if m["Key"] == "FleetSlug" {
					if v, ok := m["Value"].(string); ok {
						name += "\\nfleet " + v
					}
				}
			}
		}
	}
	return name
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
