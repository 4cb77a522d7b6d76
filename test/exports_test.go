package test

import (
	"fmt"
	"maps"
	"slices"
	"testing"
)

// stageExports maps every export name of a built stage to its value.
func stageExports(b *built) map[string]string {
	out := map[string]string{}
	for _, tpl := range b.templates {
		outputs, _ := tpl["Outputs"].(map[string]any)
		for _, o := range outputs {
			if name, ok := get(o, "Export.Name").(string); ok {
				out[name] = str(get(o, "Value"))
			}
		}
	}
	return out
}

// stageImports maps every export a built stage imports to the stacks importing it.
func stageImports(b *built) map[string][]string {
	out := map[string][]string{}
	for kind, tpl := range b.templates {
		walk(kind, map[string]any(tpl), func(_ string, v any) {
			if m, ok := v.(map[string]any); ok {
				if name, ok := m["Fn::ImportValue"].(string); ok && !slices.Contains(out[name], kind) {
					out[name] = append(out[name], kind)
				}
			}
		})
	}
	return out
}

// TestConfigSwitchesNeverStrandAnExport: a user moves a stage from one
// config to another (NAT gateway <-> instance, plain HTTP <-> HTTPS, a media
// CDN domain, the first deploy at zero and back). `make deploy` updates the
// producing stack first, and CloudFormation refuses to delete or change an
// export another stack still imports ("Export ... cannot be deleted as it is
// in use by ..."; "you can't modify or remove an output value that is
// referenced by another stack", CloudFormation User Guide, Exporting stack
// output values). So for every pair of configs (from, to) of the same stage,
// everything the stacks of `from` import must still be exported by `to`, with
// the same value.
func TestConfigSwitchesNeverStrandAnExport(t *testing.T) {
	family := []*built{stages["staging"]}
	for _, name := range slices.Sorted(maps.Keys(variants)) {
		family = append(family, variants[name])
	}
	for _, from := range family {
		imports := stageImports(from)
		fromExports := stageExports(from)
		for _, to := range family {
			if from == to {
				continue
			}
			toExports := stageExports(to)
			for _, name := range slices.Sorted(maps.Keys(imports)) {
				value, still := toExports[name]
				switch {
				case !still:
					t.Errorf("%s -> %s: the producer would delete export %s that %v still import", from.label, to.label, name, imports[name])
				case value != fromExports[name]:
					t.Errorf("%s -> %s: export %s changes %s -> %s while %v import it", from.label, to.label, name, fromExports[name], value, imports[name])
				}
			}
		}
	}
	if len(family) < 4 {
		t.Fatal(fmt.Sprintf("only %d staging configs built; the switches need the variants", len(family)))
	}
}
