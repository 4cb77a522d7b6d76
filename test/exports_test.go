package test

import (
	"maps"
	"slices"
	"testing"

	"github.com/bp/infra/config"
	"github.com/bp/infra/internal/cfn"
)

// stageExports maps every export name of a built stage to its value, read
// through internal/cfn, the template reader the tools use.
func stageExports(b *built) map[string]string {
	out := map[string]string{}
	for _, st := range b.stacks {
		for _, o := range st.cfn.Template.Outputs {
			if o.Export == nil {
				continue
			}
			if name, ok := o.Export.Name.(string); ok {
				out[name] = str(o.Value)
			}
		}
	}
	return out
}

// stageImports maps every export a built stage imports to the stacks importing it.
func stageImports(b *built) map[string][]string {
	out := map[string][]string{}
	for kind, tpl := range b.templates {
		for _, name := range cfn.CollectRefs(map[string]any(tpl)).Imports {
			if !slices.Contains(out[name], kind) {
				out[name] = append(out[name], kind)
			}
		}
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
	exports := map[*built]map[string]string{}
	for _, b := range family {
		exports[b] = stageExports(b)
	}
	for _, from := range family {
		imports := stageImports(from)
		fromExports := exports[from]
		if len(imports) == 0 || len(fromExports) == 0 {
			t.Fatalf("%s: %d imports, %d exports read; the stacks share values through exports", from.label, len(imports), len(fromExports))
		}
		for _, to := range family {
			if from == to {
				continue
			}
			toExports := exports[to]
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
	// Each switch named above is made by some config of the family.
	for _, sw := range []struct {
		name    string
		differs func(variant, staging config.Stage) bool
	}{
		{"NAT kind", func(v, s config.Stage) bool { return v.Network.NatKind != s.Network.NatKind }},
		{"plain HTTP", func(v, s config.Stage) bool { return v.AllowHTTPOnly != s.AllowHTTPOnly }},
		{"media CDN domain", func(v, s config.Stage) bool { return v.Media.CdnDomainName != s.Media.CdnDomainName }},
		{"services at zero", func(v, s config.Stage) bool { return v.Cluster.ServicesStartAtZero != s.Cluster.ServicesStartAtZero }},
	} {
		if !slices.ContainsFunc(family[1:], func(v *built) bool { return sw.differs(v.stage.Cfg, family[0].stage.Cfg) }) {
			t.Errorf("no variant of staging switches the %s (variantOverrides): the test cannot see its exports", sw.name)
		}
	}
}
