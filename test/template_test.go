package test

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
)

// Template is a synthesized CloudFormation template as plain JSON.
type Template map[string]any

// Resource is one template resource.
type Resource struct {
	LogicalID string
	Type      string
	Props     map[string]any
	Raw       map[string]any
}

// Resources returns the resources of a type (all when typ is ""), sorted by id.
func (t Template) Resources(typ string) []Resource {
	res, _ := t["Resources"].(map[string]any)
	var out []Resource
	for _, id := range slices.Sorted(maps.Keys(res)) {
		if r, _ := t.Resource(id); typ == "" || r.Type == typ {
			out = append(out, r)
		}
	}
	return out
}

// Resource returns the resource with logical id id.
func (t Template) Resource(id string) (Resource, bool) {
	res, _ := t["Resources"].(map[string]any)
	r, ok := res[id].(map[string]any)
	if !ok {
		return Resource{}, false
	}
	props, _ := r["Properties"].(map[string]any)
	if props == nil {
		props = map[string]any{}
	}
	return Resource{LogicalID: id, Type: fmt.Sprint(r["Type"]), Props: props, Raw: r}, true
}

// One returns the only resource of a type and fails otherwise.
func (t Template) One(tb testing.TB, typ string) Resource {
	tb.Helper()
	rs := t.Resources(typ)
	if len(rs) != 1 {
		tb.Fatalf("want exactly one %s, found %d", typ, len(rs))
	}
	return rs[0]
}

// Where returns the resources of a type whose property at path equals want.
func (t Template) Where(typ, path string, want any) []Resource {
	var out []Resource
	for _, r := range t.Resources(typ) {
		if equalJSON(get(r.Props, path), want) {
			out = append(out, r)
		}
	}
	return out
}

// get walks a dotted path ("A.B.0.C") through maps and lists.
func get(v any, path string) any {
	if path == "" {
		return v
	}
	for _, part := range strings.Split(path, ".") {
		switch node := v.(type) {
		case map[string]any:
			v = node[part]
		case []any:
			var i int
			if _, err := fmt.Sscanf(part, "%d", &i); err != nil || i < 0 || i >= len(node) {
				return nil
			}
			v = node[i]
		default:
			return nil
		}
	}
	return v
}

func equalJSON(a, b any) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}

// str renders a property for messages and loose comparisons.
func str(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// num reads a JSON number (CloudFormation may also carry numbers as strings).
func num(v any) float64 {
	switch n := v.(type) {
	case float64:
		return n
	case string:
		var f float64
		fmt.Sscanf(n, "%g", &f)
		return f
	}
	return -1
}

// walk calls f for every value in a JSON tree with its path.
func walk(path string, v any, f func(path string, v any)) {
	f(path, v)
	switch node := v.(type) {
	case map[string]any:
		for _, k := range slices.Sorted(maps.Keys(node)) {
			walk(path+"."+k, node[k], f)
		}
	case []any:
		for i, item := range node {
			walk(fmt.Sprintf("%s.%d", path, i), item, f)
		}
	}
}
