package test

import (
	"testing"
)

// TestEveryTaggableResourceCarriesTheCostTags: Project, Stage, Owner and
// Service on every resource that takes tags (the budget filters on Stage).
func TestEveryTaggableResourceCarriesTheCostTags(t *testing.T) {
	for _, name := range []string{"staging", "production"} {
		b := stages[name]
		checked := 0
		for kind, tpl := range b.templates {
			for _, r := range tpl.Resources("") {
				tags, ok := r.Props["Tags"]
				if !ok {
					continue
				}
				checked++
				got := tagValues(tags)
				want := map[string]string{"Project": b.stage.Cfg.AppPrefix, "Stage": name, "Owner": b.stage.Cfg.Owner}
				for k, v := range want {
					if got[k] != v {
						t.Errorf("%s/%s/%s (%s): tag %s = %q, want %q", name, kind, r.LogicalID, r.Type, k, got[k], v)
					}
				}
				if got["Service"] == "" {
					t.Errorf("%s/%s/%s (%s): no Service tag", name, kind, r.LogicalID, r.Type)
				}
			}
		}
		if checked < 20 {
			t.Fatalf("%s: only %d tagged resources found", name, checked)
		}
	}
}

// tagValues reads both tag shapes CloudFormation uses: a list of {Key,Value}
// and a plain map (SSM parameters, some others).
func tagValues(v any) map[string]string {
	out := map[string]string{}
	switch tags := v.(type) {
	case []any:
		for _, t := range tags {
			m, _ := t.(map[string]any)
			out[str(m["Key"])] = str(m["Value"])
		}
	case map[string]any:
		for k, val := range tags {
			out[k] = str(val)
		}
	}
	return out
}
