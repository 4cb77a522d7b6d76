package test

import (
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/bp/infra/internal/testtool"
)

// lintFinding is one entry of `cfn-lint --format json`.
type lintFinding struct {
	Filename string
	Level    string
	Message  string
	Location struct {
		Path []any
	}
	Rule struct {
		ID string `json:"Id"`
	}
}

// acceptedFinding is one reviewed entry of cfnlint_accepted.json.
type acceptedFinding struct {
	Rule    string   `json:"rule"`
	Types   []string `json:"types"`
	Section string   `json:"section"`
	Message string   `json:"message"`
	Reason  string   `json:"reason"`
}

func (a acceptedFinding) matches(f lintFinding, resourceType string) bool {
	if f.Rule.ID != a.Rule || !strings.Contains(f.Message, a.Message) {
		return false
	}
	if len(a.Types) > 0 && !slices.Contains(a.Types, resourceType) {
		return false
	}
	return a.Section == "" || len(f.Location.Path) > 0 && f.Location.Path[0] == a.Section
}

// TestCfnLintFindsNothingNew runs cfn-lint (the AWS CloudFormation linter,
// with AWS's resource schemas) over every template of both stages and every
// variant: no error and no warning beyond the reviewed, reasoned entries of
// cfnlint_accepted.json, each of which must still occur.
func TestCfnLintFindsNothingNew(t *testing.T) {
	run := lintResults()
	if run.missing {
		testtool.Missing(t, "cfn-lint not found on PATH (install: pip install cfn-lint==1.51.*)")
	}
	if run.err != nil {
		t.Fatal(run.err)
	}
	raw, err := os.ReadFile("cfnlint_accepted.json")
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Accepted []acceptedFinding `json:"accepted"`
	}
	if err := json.Unmarshal(raw, &cfg); err != nil {
		t.Fatalf("cfnlint_accepted.json: %v", err)
	}
	used := make([]int, len(cfg.Accepted))
	for _, f := range run.findings {
		lt := run.files[f.Filename]
		resourceType := ""
		if len(f.Location.Path) > 1 && f.Location.Path[0] == "Resources" {
			resourceType = str(get(map[string]any(lt.tpl), "Resources."+str(f.Location.Path[1])+".Type"))
		}
		i := slices.IndexFunc(cfg.Accepted, func(a acceptedFinding) bool { return a.matches(f, resourceType) })
		if i >= 0 {
			used[i]++
			continue
		}
		t.Errorf("cfn-lint %s %s in %v at %v (%s): %s", f.Level, f.Rule.ID, lt.builds, f.Location.Path, resourceType, f.Message)
	}
	for i, n := range used {
		if n == 0 {
			t.Errorf("accepted cfn-lint finding %s %q matches nothing any more: remove it from cfnlint_accepted.json", cfg.Accepted[i].Rule, cfg.Accepted[i].Message)
		}
	}
	t.Logf("cfn-lint: %d templates, %d accepted findings", len(run.files), len(run.findings))
}
