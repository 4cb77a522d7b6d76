package test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
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

// lintRun is cfn-lint's verdict on distinct templates the tests build.
type lintRun struct {
	missing  bool
	err      error
	findings []lintFinding
	// files maps each linted file to the template and the builds it stands for.
	files map[string]lintedTemplate
}

type lintedTemplate struct {
	tpl    Template
	builds []string // "staging/network", "staging+capacity/network", ...
}

// linter collects cfn-lint's runs over the batches TestMain hands it.
var linter = struct {
	sync.Mutex
	wg      sync.WaitGroup
	ctx     context.Context
	cancel  context.CancelFunc
	dir     string
	byHash  map[string]string // template hash -> file already linted
	results []lintRun
}{byHash: map[string]string{}}

// lintInBackground lints the templates of builds not linted before, in two
// cfn-lint processes, while the caller goes on.
func lintInBackground(builds []*built) {
	linter.Lock()
	defer linter.Unlock()
	bin, err := testtool.Find("cfn-lint")
	if err != nil {
		linter.results = append(linter.results, lintRun{missing: true})
		return
	}
	if linter.dir == "" {
		dir, err := os.MkdirTemp("", "cfn-lint-")
		if err != nil {
			linter.results = append(linter.results, lintRun{err: err})
			return
		}
		linter.dir = dir
		linter.ctx, linter.cancel = context.WithCancel(context.Background())
	}
	files := map[string]lintedTemplate{}
	var fresh []string
	for _, b := range builds {
		for _, kind := range slices.Sorted(mapKeys(b.templates)) {
			raw, _ := json.MarshalIndent(b.templates[kind], "", " ")
			sum := sha256.Sum256(raw)
			h := hex.EncodeToString(sum[:8])
			path, seen := linter.byHash[h]
			if !seen {
				path = filepath.Join(linter.dir, kind+"-"+h+".json")
				if err := os.WriteFile(path, raw, 0o644); err != nil {
					linter.results = append(linter.results, lintRun{err: err})
					return
				}
				linter.byHash[h] = path
				fresh = append(fresh, path)
			}
			lt := files[path]
			lt.tpl = b.templates[kind]
			lt.builds = append(lt.builds, b.label+"/"+kind)
			files[path] = lt
		}
	}
	linter.results = append(linter.results, lintRun{files: files})
	for _, part := range [][]string{fresh[:len(fresh)/2], fresh[len(fresh)/2:]} {
		if len(part) == 0 {
			continue
		}
		linter.wg.Add(1)
		go func(part []string) {
			defer linter.wg.Done()
			args := append([]string{"--format", "json", "--regions", "us-east-1", "--"}, part...)
			out, err := exec.CommandContext(linter.ctx, bin, args...).Output()
			var r lintRun
			if jerr := json.Unmarshal(out, &r.findings); jerr != nil {
				r.err = fmt.Errorf("cfn-lint: %v; output %q; parse: %v", err, out, jerr)
			}
			linter.Lock()
			linter.results = append(linter.results, r)
			linter.Unlock()
		}(part)
	}
}

// stopLint ends the cfn-lint runs no test waited for (go test -run without
// TestCfnLintFindsNothingNew) and removes their files.
func stopLint() {
	linter.Lock()
	if linter.cancel != nil {
		linter.cancel()
	}
	linter.Unlock()
	linter.wg.Wait()
	if linter.dir != "" {
		_ = os.RemoveAll(linter.dir)
	}
}

// lintResults waits for every cfn-lint run and merges them.
func lintResults() lintRun {
	linter.wg.Wait()
	linter.Lock()
	defer linter.Unlock()
	out := lintRun{files: map[string]lintedTemplate{}}
	for _, r := range linter.results {
		out.missing = out.missing || r.missing
		if r.err != nil {
			out.err = r.err
		}
		out.findings = append(out.findings, r.findings...)
		for path, lt := range r.files {
			prev := out.files[path]
			prev.tpl = lt.tpl
			for _, b := range lt.builds {
				if !slices.Contains(prev.builds, b) {
					prev.builds = append(prev.builds, b)
				}
			}
			out.files[path] = prev
		}
	}
	return out
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
