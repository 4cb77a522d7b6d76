package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/bp/infra/internal/cfn"
)

// plan is everything the preflight will ask AWS, read from the templates of
// the stacks being deployed, before any AWS call.
type plan struct {
	Stage    string
	Selected []string    // --stacks as given (short names), empty for all
	All      []cfn.Stack // every stack of the stage, dependencies first
	Deploy   []cfn.Stack // what cdk deploy will deploy: the selection and its dependencies
	Params   []*paramCheck
	Images   []*imageCheck
	Notes    []string  // what is deliberately not checked, and why
	Problems []problem // found in the templates themselves (a shape the preflight cannot read)
}

// problem is one line of the report and the stacks it blocks (none: the whole run).
type problem struct {
	Stacks []cfn.Stack
	Text   string
}

func problemsOf(stacks []cfn.Stack, lines ...string) []problem {
	out := make([]problem, 0, len(lines))
	for _, l := range lines {
		out = append(out, problem{Stacks: stacks, Text: l})
	}
	return out
}

// buildPlan loads the stage's stacks from cdk.out and collects the checks of
// the stacks that `cdk deploy` would deploy for the selection.
func buildPlan(cdkOut, stage, app, stacksFlag string) (*plan, error) {
	loaded, err := cfn.LoadAssembly(cdkOut, app)
	if err != nil {
		return nil, err
	}
	stageStacks, err := cfn.StageStacks(loaded, stage)
	if err != nil {
		return nil, err
	}
	// make deploy selects '<stage>/*': the ci stack (outside the stage,
	// deployed by an admin with make deploy-ci) is not part of it.
	stageStacks = slices.DeleteFunc(stageStacks, func(s cfn.Stack) bool {
		return s.DisplayName != "" && !strings.HasPrefix(s.DisplayName, stage+"/")
	})
	p := &plan{Stage: stage, All: cfn.WithDependencies(stageStacks, stageStacks)}
	selected, err := selectStacks(p.All, stage, stacksFlag)
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(stacksFlag) != "" { // the fix commands repeat the user's selection
		for _, s := range selected {
			p.Selected = append(p.Selected, s.ShortName())
		}
	}
	p.Deploy = cfn.WithDependencies(p.All, selected)
	for _, s := range p.Deploy {
		p.collectParams(s)
		p.collectImages(s)
	}
	p.dropParamsThisDeployCreates()
	return p, nil
}

// selectStacks maps --stacks ("network data", "network,data" or
// "staging/network") to the stage's stacks; empty selects all of them.
func selectStacks(all []cfn.Stack, stage, flag string) ([]cfn.Stack, error) {
	names := strings.FieldsFunc(flag, func(r rune) bool { return r == ' ' || r == ',' || r == '\t' })
	if len(names) == 0 {
		return all, nil
	}
	byName := map[string]cfn.Stack{}
	var known []string
	for _, s := range all {
		byName[s.ShortName()] = s
		known = append(known, s.ShortName())
	}
	var out []cfn.Stack
	for _, n := range names {
		s, ok := byName[strings.TrimPrefix(n, stage+"/")]
		if !ok {
			return nil, usageError{fmt.Sprintf("--stacks: stage %s has no stack %q (have: %s), e.g. STACKS=\"network data\"", stage, n, strings.Join(known, " "))}
		}
		if !slices.ContainsFunc(out, func(x cfn.Stack) bool { return x.ArtifactID == s.ArtifactID }) {
			out = append(out, s)
		}
	}
	return out, nil
}

// deploying reports whether the stack with this artifact id is deployed in this run.
func (p *plan) deploying(artifactID string) bool {
	return slices.ContainsFunc(p.Deploy, func(s cfn.Stack) bool { return s.ArtifactID == artifactID })
}

// stacksBefore lists the deployed stacks that neither are one of failing nor
// depend on one of them: what can be deployed while the problem is fixed.
func (p *plan) stacksBefore(failing ...string) []string {
	blocked := map[string]bool{}
	for _, id := range failing {
		blocked[id] = true
	}
	// p.Deploy has dependencies first, so one pass sees a stack's
	// dependencies before the stack itself.
	var out []string
	for _, s := range p.Deploy {
		for _, d := range s.Dependencies {
			if blocked[d] {
				blocked[s.ArtifactID] = true
			}
		}
		if !blocked[s.ArtifactID] {
			out = append(out, s.ShortName())
		}
	}
	return out
}

// withDependencies lists the stacks with these artifact ids and what they
// depend on, by short name, dependencies first.
func (p *plan) withDependencies(ids ...string) []string {
	var sel []cfn.Stack
	for _, s := range p.All {
		if slices.Contains(ids, s.ArtifactID) {
			sel = append(sel, s)
		}
	}
	var out []string
	for _, s := range cfn.WithDependencies(p.All, sel) {
		out = append(out, s.ShortName())
	}
	return out
}

// pseudo gives the resolver the stack's pseudo parameters it can know offline.
func pseudo(s cfn.Stack) map[string]any {
	m := map[string]any{"AWS::StackName": s.Name, "AWS::Partition": "aws", "AWS::URLSuffix": urlSuffix(s.Region)}
	if s.Region != "" {
		m["AWS::Region"] = s.Region
	}
	if s.Account != "" {
		m["AWS::AccountId"] = s.Account
	}
	if strings.HasPrefix(s.Region, "cn-") {
		m["AWS::Partition"] = "aws-cn"
	}
	return m
}

func urlSuffix(region string) string {
	if strings.HasPrefix(region, "cn-") {
		return "amazonaws.com.cn"
	}
	return "amazonaws.com"
}

func resolver(s cfn.Stack) cfn.Resolver {
	return cfn.Resolver{T: s.Template, Pseudo: pseudo(s)}
}
