package packer_test

import (
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/bp/infra/bootcontract"
)

// healthyBase is the healthy tree, built once per test binary: the install
// scripts and the venv cost far more than a copy, and about twenty tests
// start from the same tree.
var healthyBase struct {
	once    sync.Once
	parent  string // os.MkdirTemp folder holding the tree; TestMain removes it
	dir     string // the tree, without the worker binary; empty when its build did not finish
	worker  string // the tree's worker binary, kept beside it (see healthyRoot)
	stock   string // the tree's usr/lib/systemd/system, kept beside it
	skipped bool   // the build was skipped for a missing tool (never under CI=true)
}

// healthyRoot is an OS tree as the AMI build leaves it (without the GPU
// stack): stock systemd units, service users, ComfyUI venv, worker, our units.
// Each caller gets its own copy (cp -a keeps owners, modes, the sticky bit
// and the venv's links), so tests may break it and run in parallel. The
// copied venv's python finds its pyvenv.cfg next to itself, so sys.prefix is
// the copy's; only the activate scripts and pyvenv.cfg's informational
// "command" line still name the base path, and nothing reads them. Two
// parts no test changes are hard links instead of copies: the stock systemd
// units (three quarters of the tree's files; a new inode costs ext4 far more
// than a link) and the worker binary (most of its bytes), both with their
// installed owners and modes. No test writes either in place: writeFile
// makes a new file, and the tests that break the worker remove or replace it.
func healthyRoot(t *testing.T) string {
	t.Helper()
	requireTool(t, "systemd-analyze")
	cp := requireTool(t, "cp")
	healthyBase.once.Do(func() { buildHealthyBase(t) })
	if healthyBase.dir == "" {
		if healthyBase.skipped {
			t.Skip("skipped: the shared healthy tree needs a missing tool (see the test that built it); CI=true turns this into a failure")
		}
		t.Fatal("the shared healthy tree could not be built; see the first test that asked for it")
	}
	root := t.TempDir()
	mustRun(t, nil, cp, "-a", "--", healthyBase.dir+"/.", root)
	mustRun(t, nil, cp, "-a", "--link", "--", healthyBase.stock, filepath.Join(root, stockUnits))
	must(t, os.Link(healthyBase.worker, filepath.Join(root, bootcontract.WorkerBinary)))
	return root
}

// buildHealthyBase runs on the first caller's t; a Fatal or Skip there
// leaves healthyBase.dir empty, which every later caller reports.
func buildHealthyBase(t *testing.T) {
	t.Helper()
	defer func() { healthyBase.skipped = t.Skipped() }()
	parent, err := os.MkdirTemp("", "packer-healthy-")
	if err != nil {
		t.Fatalf("temp dir for the healthy tree: %v", err)
	}
	healthyBase.parent = parent
	dir := filepath.Join(parent, "root")
	must(t, os.Mkdir(dir, 0o700)) // as t.TempDir makes it
	fillSystemRoot(t, dir)
	installBootPath(t, dir, workerBinary(t))
	fakeComfyUI(t, dir)
	fakeCloudWatchAgent(t, dir)
	worker, stock := filepath.Join(parent, "worker"), filepath.Join(parent, "stock-units")
	must(t, os.Rename(filepath.Join(dir, bootcontract.WorkerBinary), worker))
	must(t, os.Rename(filepath.Join(dir, stockUnits), stock))
	healthyBase.dir, healthyBase.worker, healthyBase.stock = dir, worker, stock
}
