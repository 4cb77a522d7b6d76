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
// built, before any template exists, each with as many arguments (slots:
// named pipes, read in turn) as there could be distinct templates. Every
// synthesized app hands its new templates to the process with less to do, in
// its next slot, so cfn-lint lints each template as it arrives, on the core
// jsii leaves free, instead of in one batch after the last synthesis. The
// slots left over get a no-op template once the last app is done. This relies
// on cfn-lint opening each argument once (1.51 does, in order); one that read
// a pipe twice would wait for the go test timeout.
//
// cfn-lint's findings on a template depend only on cfn-lint (its version,
// with the resource schemas it bundles), its arguments and the template's
// bytes, so they are kept per template in ~/.cache/bp-infra/cfn-lint under a
// hash of the three (lintcache_test.go): a run lints only the templates no
// earlier run linted, and a process starts only for those. A change to one
// stack re-lints that stack's templates; `rm -rf ~/.cache/bp-infra/cfn-lint`
// lints everything again.

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
	builds []string // "staging/network", "staging+switched-on/network", ...
	key    string   // its findings' cache key ("" when nothing is cached)
}

// fillerTemplate goes into every slot no template needed: valid and without
// findings (cfn-lint reads it in milliseconds; a finding on it would still
// fail the test, as one of no build).
const fillerTemplate = `{"Resources": {"Filler": {"Type": "AWS::CloudFormation::WaitConditionHandle"}}}`

// lintConfig is cfn-lint's configuration for these tests: none, but naming
// it keeps cfn-lint from reading a user's ~/.cfnlintrc (cfnlint/config.py:
// a custom config file replaces the user and project lookups).
const lintConfig = "cfnlint.yml"

// lintArgs come before the files on cfn-lint's command line.
var lintArgs = []string{"--format", "json", "--regions", "us-east-1", "--config-file", lintConfig, "--"}

// lintProcesses is how many cfn-lint processes share the templates.
const lintProcesses = 2

// lintProc is one cfn-lint process and its slots, filled in order.
type lintProc struct {
	slots []string
	next  int // slots[next] is the next to fill; with pipes it starts at its first
	bytes int // template bytes handed to it so far
}

// linter holds the cfn-lint processes and what they were given.
var linter = struct {
	sync.Mutex
	wg       sync.WaitGroup
	ctx      context.Context
	cancel   context.CancelFunc
	bin      string
	dir      string
	pipes    bool // slots are named pipes (else plain files, linted after the last app)
	procs    []*lintProc
	byHash   map[[32]byte]string // template hash -> slot holding it, or its cache entry's name
	files    map[string]lintedTemplate
	cache    *lintCache
	cached   []lintFinding // findings read from the cache
	finished bool
	runs     []lintRun
	startErr lintRun // cfn-lint missing, or the slots could not be made
}{}

// startLint makes capacity slots for each cfn-lint process and asks cfn-lint
// its version for the cache key; each process starts when it is handed its
// first template.
func startLint(capacity int) {
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
	linter.bin, linter.dir = bin, dir
	linter.ctx, linter.cancel = context.WithCancel(context.Background())
	linter.byHash, linter.files = map[[32]byte]string{}, map[string]lintedTemplate{}
	linter.cache = openLintCache(linter.ctx, bin)
	probe := filepath.Join(dir, "probe")
	linter.pipes = mkfifo(probe) == nil
	_ = os.Remove(probe)
	for p := range lintProcesses {
		proc := &lintProc{}
		for i := range capacity {
			path := filepath.Join(dir, fmt.Sprintf("p%d-%02d.json", p, i))
			if linter.pipes {
				if err := mkfifo(path); err != nil {
					linter.startErr = lintRun{err: err}
					return
				}
			}
			proc.slots = append(proc.slots, path)
		}
		linter.procs = append(linter.procs, proc)
	}
}

// feedLint hands b's templates to cfn-lint: each distinct template once,
// unless the cache holds its findings, to the process given fewer bytes so
// far.
func feedLint(b *built) {
	linter.cache.ready() // the key needs cfn-lint's version
	linter.Lock()
	defer linter.Unlock()
	if linter.procs == nil {
		return
	}
	for _, kind := range b.kinds() {
		raw := b.stacks[kind].cfn.Raw
		sum := sha256.Sum256(raw)
		if first, seen := linter.byHash[sum]; seen {
			lt := linter.files[first]
			lt.builds = append(lt.builds, b.label+"/"+kind)
			linter.files[first] = lt
			continue
		}
		key := linter.cache.key(raw)
		if findings, ok := linter.cache.get(key); ok {
			name := "cache:" + key
			for i := range findings {
				findings[i].Filename = name
			}
			linter.cached = append(linter.cached, findings...)
			linter.byHash[sum] = name
			linter.files[name] = lintedTemplate{tpl: b.templates[kind], builds: []string{b.label + "/" + kind}}
			continue
		}
		var proc *lintProc
		for _, p := range linter.procs {
			if p.next < len(p.slots) && (proc == nil || p.bytes < proc.bytes) {
				proc = p
			}
		}
		if proc == nil {
			linter.runs = append(linter.runs, lintRun{err: fmt.Errorf("more distinct templates than cfn-lint has slots for (%s/%s)", b.label, kind)})
			return
		}
		path := proc.slots[proc.next]
		proc.next++
		proc.bytes += len(raw)
		linter.byHash[sum] = path
		linter.files[path] = lintedTemplate{tpl: b.templates[kind], builds: []string{b.label + "/" + kind}, key: key}
		if linter.pipes && proc.next == 1 {
			runLint(proc) // its first template: start it, it opens the pipes in order
		}
		writeSlot(path, raw)
	}
}

// finishLint fills the slots no template needed of each process that was
// handed a template, after the last app; with plain files it then starts
// those processes.
func finishLint() {
	linter.Lock()
	defer linter.Unlock()
	if linter.procs == nil || linter.finished {
		return
	}
	linter.finished = true
	for _, proc := range linter.procs {
		if proc.next == 0 {
			continue // every template it could have had was cached
		}
		for ; proc.next < len(proc.slots); proc.next++ {
			writeSlot(proc.slots[proc.next], []byte(fillerTemplate))
		}
		if !linter.pipes {
			runLint(proc)
		}
	}
}

// writeSlot fills a slot. A named pipe blocks until cfn-lint opens it, so it
// is written in the background (cfn-lint reports a slot it could not read).
// Callers hold linter's lock.
func writeSlot(path string, raw []byte) {
	if linter.pipes {
		go func() { _ = os.WriteFile(path, raw, 0o644) }()
		return
	}
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		linter.runs = append(linter.runs, lintRun{err: err})
	}
}

// runLint starts one cfn-lint over proc's slots and, once it has linted
// them all, stores each template's findings in the cache. Callers hold
// linter's lock.
func runLint(proc *lintProc) {
	linter.wg.Add(1)
	cmd := exec.CommandContext(linter.ctx, linter.bin, append(append([]string{}, lintArgs...), proc.slots...)...)
	testtool.KillGroupOnCancel(cmd) // cfn-lint may be a wrapper around python: end them all
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
		if r.err == nil {
			for _, slot := range proc.slots {
				if lt, ok := linter.files[slot]; ok {
					linter.cache.put(lt.key, r.findingsOf(slot))
				}
			}
		}
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
	linter.Lock()
	if linter.startErr.missing || linter.startErr.err != nil {
		defer linter.Unlock()
		return linter.startErr
	}
	if !linter.finished {
		defer linter.Unlock()
		return lintRun{err: fmt.Errorf("cfn-lint was never handed the last templates")}
	}
	linter.Unlock()
	linter.wg.Wait()
	linter.Lock()
	defer linter.Unlock()
	out := lintRun{files: linter.files, findings: slices.Clone(linter.cached)}
	for _, r := range linter.runs {
		if r.err != nil {
			out.err = r.err
		}
		out.findings = append(out.findings, r.findings...)
	}
	return out
}
