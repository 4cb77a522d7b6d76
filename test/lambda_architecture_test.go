package test

import (
	"testing"

	"github.com/bp/infra/internal/lambdabuild"
)

// TestGoFunctionsRunOnTheArchitectureTheirBinariesAreBuiltFor: every Go
// function (provided.al2023, handler bootstrap) gets lambdabuild's
// LambdaArchitecture, the one internal/lambdabuild's test checks against the
// machine of the built binaries and the Lambda developer guide.
func TestGoFunctionsRunOnTheArchitectureTheirBinariesAreBuiltFor(t *testing.T) {
	want := `["` + lambdabuild.LambdaArchitecture + `"]`
	for _, b := range all() {
		n := 0
		for kind, tpl := range b.templates {
			for _, fn := range tpl.Resources("AWS::Lambda::Function") {
				if fn.Props["Runtime"] != "provided.al2023" {
					continue // CDK's own handlers (Node.js)
				}
				n++
				if got := str(fn.Props["Architectures"]); got != want || fn.Props["Handler"] != "bootstrap" {
					t.Errorf("%s %s: %s architectures %s handler %v, want %s bootstrap", b.label, kind, fn.LogicalID, got, fn.Props["Handler"], want)
				}
			}
		}
		if n < 4 {
			t.Errorf("%s: %d Go functions; expected DB-init and the fleet's handlers", b.label, n)
		}
	}
}
