package test

import (
	"strings"
	"testing"

	"github.com/bp/infra/tools/cicdnames"
)

// stageTemplates lists a stage's templates in deploy order.
func (b *built) stageTemplates() []map[string]any {
	var out []map[string]any
	for _, stack := range b.stage.Stacks() {
		out = append(out, b.templates[*stack.Node().Id()])
	}
	return out
}

// TestBlocker4_CICDNamesMatchTheContract: the names the pipeline deploys to
// (cluster, services, task families, containers, ECR repositories, image tags,
// AMI parameters, metrics namespace) are synthesized exactly as system-facts
// section 1 states them. `make names STAGE=` runs the same comparison on cdk.out.
func TestBlocker4_CICDNamesMatchTheContract(t *testing.T) {
	for _, name := range []string{"staging", "production"} {
		b := stages[name]
		var slugs []string
		for _, f := range b.stage.Cfg.Fleets {
			slugs = append(slugs, f.Slug)
		}
		want := cicdnames.Contract(b.stage.Cfg.AppPrefix, name, slugs)
		got := cicdnames.Extract(b.stageTemplates())
		if diffs := cicdnames.Diff(want, got); len(diffs) > 0 {
			t.Errorf("%s: names differ from the CI/CD contract:\n  %s", name, strings.Join(diffs, "\n  "))
		}
	}
}
