package main

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bp/infra/internal/cfn"
	"github.com/bp/infra/internal/testtool"
)

// costTargets are the idle budgets the presets must meet (fixed monthly cost
// at list prices, what `make cost` prints): staging no more than $90,
// production no more than $300, the old stacks' ~$258 plus the itemised
// gains in README "Cost".
var costTargets = map[string]float64{"staging": 90, "production": 300}

// TestPresetsMeetTheCostTargets prices the app `make synth` wrote (CI runs
// make synth before make test): a change that lifts a stage over its target
// fails here, not in a reviewer's cost diff.
func TestPresetsMeetTheCostTargets(t *testing.T) {
	cdkOut := filepath.Join("..", "..", "cdk.out")
	stacks, err := cfn.LoadAssembly(cdkOut, "bp")
	if err != nil {
		testtool.Missing(t, "no synthesized assembly in "+cdkOut+": run make synth first ("+err.Error()+")")
	}
	p, err := LoadPrices("us-east-1", "")
	require.NoError(t, err)
	r := buildReport(stacks, p)
	assert.Empty(t, r.Unpriced, "every synthesized resource is priced")
	seen := map[string]bool{}
	for _, s := range r.Stages {
		target, ok := costTargets[s.Name]
		if !ok {
			continue
		}
		seen[s.Name] = true
		assert.LessOrEqual(t, s.MonthlyUSD, target, "%s costs $%.2f/month at idle, over its $%.0f target: see make cost", s.Name, s.MonthlyUSD, target)
	}
	for name := range costTargets {
		assert.True(t, seen[name], "stage %s is not in %s (make synth writes every stage)", name, cdkOut)
	}
}
