package test

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/bp/infra/internal/testtool"
)

// cfn-lint is a Python program: about 2 s to start, then about 0.6 s of CPU
// per template. TestMain starts two cfn-lint processes once the first app is
// built, before any template exists, each with one argument per template it
// will lint (a slot: a named pipe). Every synthesized app then fills its
// slots, and cfn-lint lints each template as it arrives, on the core jsii
// leaves free, instead of in one batch after the last synthesis.

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

// fillerTemplate goes into the slot of a template that equals one linted
// before: an empty-handed but valid template (any finding on it still fails
// the test, as one with no build).
const fillerTemplate = `{"Resources": {"Filler": {"Type": "AWS::CloudFormation::WaitConditionHandle"}}}`

// lintProcesses is how many cfn-lint processes share the slots (builds alternate).
const lintProcesses = 2

// linter holds the cfn-lint processes and what was written to their slots.
var linter = struct {
	sync.Mutex
	wg       sync.WaitGroup
	ctx      context.Context
	cancel   context.CancelFunc
	dir      string
	pipes    bool                // slots are named pipes (else files, linted at the end)
	kinds    []string            // the stacks of every stage
	slots    map[string]string   // "build/kind" -> slot path
	pending  map[int][]string    // process -> its slots (files mode: not started yet)
	process  map[string]int      // slot -> process
	unfilled map[int]int         // process -> slots still to fill
	byHash   map[[32]byte]string // template hash -> slot holding it
	files    map[string]lintedTemplate
	runs     []lintRun
	startErr lintRun // cfn-lint missing, or the slots could not be made
}{}

// startLint makes one slot per stack kind of every build label and starts
// cfn-lint on them. Kinds are the stacks every stage has.
func startLint(labels, kinds []string) {
	linter.Lock()
	defer linter.Unlock()
	bin, err := testtool.Find("cfn-lint")
	if err != nil {
		linter.startErr = lintRun{missing: true}
		return
	}
	dir, err := os.MkdirTemp("", "cfn-lint-")
	if err != nil {
		linter.startErr = lintRun{err: err}
		return
	}
	linter.dir = dir
	linter.ctx, linter.cancel = context.WithCancel(context.Background())
	linter.slots, linter.process = map[string]string{}, map[string]int{}
	linter.pending, linter.unfilled = map[int][]string{}, map[int]int{}
	linter.byHash, linter.files = map[[32]byte]string{}, map[string]lintedTemplate{}
	probe := filepath.Join(dir, "probe")
	linter.pipes = mkfifo(probe) == nil // else plain files, each process started once its files are written
	_ = os.Remove(probe)
	for i, label := range labels {
		for _, kind := range kinds {
			path := filepath.Join(dir, fmt.Sprintf("%02d-%s-%s.json", len(linter.slots), label, kind))
			if linter.pipes {
				if err := mkfifo(path); err != nil {
					linter.startErr = lintRun{err: err}
					return
				}
			}
			proc := i % lintProcesses
			linter.slots[label+"/"+kind] = path
			linter.process[path] = proc
			linter.pending[proc] = append(linter.pending[proc], path)
			linter.unfilled[proc]++
		}
	}
	linter.kinds = kinds
	if linter.pipes {
		for proc, paths := range linter.pending {
			runLint(bin, paths)
			delete(linter.pending, proc)
		}
	}
}

// feedLint writes b's templates into its slots: each distinct template
// once, a filler where an equal one was written before. Every slot of b is
// filled, so no cfn-lint waits for a template that will not come.
func feedLint(b *built) {
	linter.Lock()
	defer linter.Unlock()
	if linter.slots == nil {
		return
	}
	for kind := range b.templates {
		if !slices.Contains(linter.kinds, kind) {
			linter.runs = append(linter.runs, lintRun{err: fmt.Errorf("cfn-lint has no slot for %s/%s: every stage must have the stacks %v", b.label, kind, linter.kinds)})
		}
	}
	for _, kind := range linter.kinds {
		path := linter.slots[b.label+"/"+kind]
		tpl, ok := b.templates[kind]
		if !ok {
			linter.runs = append(linter.runs, lintRun{err: fmt.Errorf("%s has no %s stack to lint", b.label, kind)})
			writeSlot(path, []byte(fillerTemplate))
			continue
		}
		raw, _ := json.MarshalIndent(tpl, "", " ")
		sum := sha256.Sum256(raw)
		if first, seen := linter.byHash[sum]; seen {
			lt := linter.files[first]
			lt.builds = append(lt.builds, b.label+"/"+kind)
			linter.files[first] = lt
			raw = []byte(fillerTemplate)
		} else {
			linter.byHash[sum] = path
			linter.files[path] = lintedTemplate{tpl: tpl, builds: []string{b.label + "/" + kind}}
		}
		writeSlot(path, raw)
	}
}

// writeSlot fills a slot. A named pipe blocks until cfn-lint opens it, so
// pipes are written in the background; files are written now, and the last
// file of a process starts it.
func writeSlot(path string, raw []byte) {
	if linter.pipes {
		go func() { _ = os.WriteFile(path, raw, 0o644) }() // cfn-lint reports a slot it could not read
		return
	}
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		linter.runs = append(linter.runs, lintRun{err: err})
		return
	}
	proc := linter.process[path]
	if linter.unfilled[proc]--; linter.unfilled[proc] == 0 {
		if bin, err := testtool.Find("cfn-lint"); err == nil {
			runLint(bin, linter.pending[proc])
			delete(linter.pending, proc)
		}
	}
}

// runLint starts one cfn-lint over paths. Callers hold linter's lock.
func runLint(bin string, paths []string) {
	linter.wg.Add(1)
	cmd := exec.CommandContext(linter.ctx, bin, append([]string{"--format", "json", "--regions", "us-east-1", "--"}, paths...)...)
	killGroup(cmd) // cfn-lint may be a wrapper around python: end them all
	cmd.WaitDelay = 5 * time.Second
	go func() {
		defer linter.wg.Done()
		out, err := cmd.Output()
		var r lintRun
		if jerr := json.Unmarshal(out, &r.findings); jerr != nil {
			r.err = fmt.Errorf("cfn-lint: %v; output %q; parse: %v", err, out, jerr)
		}
		linter.Lock()
		linter.runs = append(linter.runs, r)
		linter.Unlock()
	}()
}

// stopLint ends the cfn-lint runs no test waited for (go test -run without
// TestCfnLintFindsNothingNew, or a failed build) and removes the slots.
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
	if linter.startErr.missing || linter.startErr.err != nil {
		return linter.startErr
	}
	out := lintRun{files: linter.files}
	if len(linter.pending) > 0 {
		out.err = fmt.Errorf("cfn-lint never started on %d processes' slots: some builds were not fed", len(linter.pending))
	}
	for _, r := range linter.runs {
		if r.err != nil {
			out.err = r.err
		}
		out.findings = append(out.findings, r.findings...)
	}
	return out
}
