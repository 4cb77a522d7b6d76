package main

import (
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/bp/infra/internal/cfn"
)

// nodeKey names a resource across the stacks of a stage.
type nodeKey struct{ stack, id string }

func less(a, b nodeKey) bool {
	if a.stack != b.stack {
		return a.stack < b.stack
	}
	return a.id < b.id
}

// ref is what an intrinsic points at: a resource and, for Fn::GetAtt, the
// attribute ("" for Ref). The attribute tells a DB instance's endpoint from
// its RDS-managed master secret.
type ref struct {
	key  nodeKey
	attr string
}

// stageIndex resolves references across the stacks of one stage: exports
// (Fn::ImportValue) and SSM parameter names (SSM-typed template parameters,
// {{resolve:ssm:...}}).
type stageIndex struct {
	stacks  []cfn.Stack
	byName  map[string]*cfn.Stack
	outputs map[string]exportAt // export name -> output that exports it
	ssm     map[string][]nodeKey
}

type exportAt struct {
	stack string
	value any
}

func newStageIndex(stacks []cfn.Stack) *stageIndex {
	idx := &stageIndex{stacks: stacks, byName: map[string]*cfn.Stack{}, outputs: map[string]exportAt{}, ssm: map[string][]nodeKey{}}
	for i := range stacks {
		st := &stacks[i]
		idx.byName[st.Name] = st
		for _, name := range slices.Sorted(maps.Keys(st.Template.Outputs)) {
			o := st.Template.Outputs[name]
			if o.Export == nil {
				continue
			}
			if exp, ok := o.Export.Name.(string); ok {
				idx.outputs[exp] = exportAt{stack: st.Name, value: o.Value}
			}
		}
		for _, id := range st.Template.OfType("AWS::SSM::Parameter") {
			if name, ok := st.Template.Resources[id].Properties["Name"].(string); ok {
				idx.ssm[name] = append(idx.ssm[name], nodeKey{st.Name, id})
			}
		}
	}
	return idx
}

// resource returns the template resource of a key.
func (idx *stageIndex) resource(k nodeKey) (cfn.Resource, bool) {
	st, ok := idx.byName[k.stack]
	if !ok {
		return cfn.Resource{}, false
	}
	r, ok := st.Template.Resources[k.id]
	return r, ok
}

// each calls fn for every resource of the given types, in stack then id
// order. Resources whose template condition is false are left out.
func (idx *stageIndex) each(fn func(k nodeKey, r cfn.Resource), types ...string) {
	for _, st := range idx.stacks {
		for _, id := range st.Template.LogicalIDs() {
			r := st.Template.Resources[id]
			if len(types) > 0 && !slices.Contains(types, r.Type) {
				continue
			}
			if r.Condition != "" {
				if ok, err := (cfn.Resolver{T: st.Template}).Condition(r.Condition); err == nil && !ok {
					continue
				}
			}
			fn(nodeKey{st.Name, id}, r)
		}
	}
}

// refs returns the resources a property value of a stack's resource refers
// to, following imports into the exporting stack. Pseudo parameters and
// plain parameters resolve to nothing.
func (idx *stageIndex) refs(stack string, v any) []ref {
	seen := map[ref]bool{}
	idx.collect(stack, v, seen, 0)
	out := slices.Collect(maps.Keys(seen))
	sort.Slice(out, func(i, j int) bool {
		if out[i].key != out[j].key {
			return less(out[i].key, out[j].key)
		}
		return out[i].attr < out[j].attr
	})
	return out
}

// keys is refs without attributes.
func (idx *stageIndex) keys(stack string, v any) []nodeKey {
	var out []nodeKey
	for _, r := range idx.refs(stack, v) {
		if len(out) == 0 || out[len(out)-1] != r.key {
			out = append(out, r.key)
		}
	}
	return out
}

func (idx *stageIndex) collect(stack string, v any, seen map[ref]bool, depth int) {
	if depth > 8 {
		return
	}
	st := idx.byName[stack]
	if st == nil {
		return
	}
	addID := func(id, attr string) {
		if _, ok := st.Template.Resources[id]; ok {
			seen[ref{nodeKey{stack, id}, attr}] = true
			return
		}
		if p, ok := st.Template.Parameters[id]; ok && strings.HasPrefix(p.Type, "AWS::SSM::Parameter") {
			if name, ok := p.Default.(string); ok {
				for _, k := range idx.ssm[name] {
					seen[ref{k, ""}] = true
				}
			}
		}
	}
	switch t := v.(type) {
	case map[string]any:
		if len(t) == 1 {
			if id, ok := t["Ref"].(string); ok {
				addID(id, "")
				return
			}
			if ga, ok := t["Fn::GetAtt"]; ok {
				switch a := ga.(type) {
				case []any:
					if len(a) == 2 {
						id, _ := a[0].(string)
						attr, _ := a[1].(string)
						addID(id, attr)
					}
				case string:
					id, attr, _ := strings.Cut(a, ".")
					addID(id, attr)
				}
				return
			}
			if imp, ok := t["Fn::ImportValue"]; ok {
				if name, ok := imp.(string); ok {
					if e, ok := idx.outputs[name]; ok {
						idx.collect(e.stack, e.value, seen, depth+1)
					}
				}
				return
			}
			if sub, ok := t["Fn::Sub"]; ok {
				s, names, vars := cfn.SubParts(sub)
				if vars != nil {
					idx.collect(stack, vars, seen, depth)
				}
				for _, n := range names {
					id, attr, _ := strings.Cut(n, ".")
					addID(id, attr)
				}
				idx.collectSSM(s, seen)
				return
			}
		}
		for _, k := range slices.Sorted(maps.Keys(t)) {
			idx.collect(stack, t[k], seen, depth)
		}
	case []any:
		for _, x := range t {
			idx.collect(stack, x, seen, depth)
		}
	case string:
		idx.collectSSM(t, seen)
	}
}

func (idx *stageIndex) collectSSM(s string, seen map[ref]bool) {
	for _, name := range cfn.SSMNames(s) {
		for _, k := range idx.ssm[name] {
			seen[ref{k, ""}] = true
		}
	}
}

// literal renders a value as a string where the template decides it: plain
// strings, Fn::Join and Fn::Sub of literals, parameters with plain defaults.
// Pseudo parameters the template cannot know (account, region) and any other
// intrinsic become "*", which is what IAM patterns need.
func (idx *stageIndex) literal(stack string, v any) string {
	st := idx.byName[stack]
	var render func(any) string
	render = func(v any) string {
		switch t := v.(type) {
		case string:
			return t
		case float64:
			return strconv.FormatFloat(t, 'f', -1, 64)
		case map[string]any:
			if j, ok := t["Fn::Join"].([]any); ok && len(j) == 2 {
				sep, _ := j[0].(string)
				parts, _ := j[1].([]any)
				var out []string
				for _, p := range parts {
					out = append(out, render(p))
				}
				return strings.Join(out, sep)
			}
			if name, ok := t["Ref"].(string); ok {
				switch name {
				case "AWS::Partition":
					return "aws"
				case "AWS::URLSuffix":
					return "amazonaws.com"
				}
				if st != nil {
					if s, err := (cfn.Resolver{T: st.Template}).String(t); err == nil {
						return s
					}
				}
			}
			if s, ok := t["Fn::Sub"].(string); ok {
				return cfn.Substitute(s, func(name string) string { return render(map[string]any{"Ref": name}) })
			}
		}
		return "*"
	}
	return render(v)
}

// str returns a plain string property, "" when it is not one.
func str(m map[string]any, key string) string {
	s, _ := m[key].(string)
	return s
}

// dig walks nested maps by keys and returns the value found, or nil.
func dig(v any, path ...string) any {
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[p]
	}
	return v
}

// list returns v as a list; a single value becomes a list of one.
func list(v any) []any {
	switch t := v.(type) {
	case nil:
		return nil
	case []any:
		return t
	}
	return []any{v}
}
