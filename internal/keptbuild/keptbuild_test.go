package keptbuild

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bp/infra/internal/filecache"
	"github.com/bp/infra/internal/testtool"
)

// TestBuildLinksOnlyWhatChanged, on a module of its own: Build serves the
// program its sources make now. After the kept file is replaced by another
// Go binary (this test's: a stale build), Build links again and serves
// byte for byte what it served before; an unchanged program is not linked
// again; an edited source is.
func TestBuildLinksOnlyWhatChanged(t *testing.T) {
	mod := t.TempDir()
	write := func(rel, text string) { testtool.WriteFile(t, mod, rel, text) }
	write("go.mod", "module example.com/kept\n\ngo 1.24\n")
	write("main.go", "package main\n\nfunc main() { println(\"one\") }\n")
	target, err := keptFile(mod, "kept")
	if err != nil {
		t.Skipf("no user cache dir (Build builds straight into its output): %v", err)
	}
	t.Cleanup(func() { os.RemoveAll(filepath.Dir(target)) })
	out := t.TempDir()
	goBuild := func(target string) []string {
		return []string{"go", "-C", mod, "build", "-trimpath", "-o", target, "."}
	}
	build := func(name string) []byte {
		t.Helper()
		path := filepath.Join(out, name)
		if err := Build(t.Context(), mod, "kept", path, goBuild); err != nil {
			t.Fatal(err)
		}
		b, _ := os.ReadFile(path)
		return b
	}
	prints := func(name, want string) {
		t.Helper()
		got, err := exec.Command(filepath.Join(out, name)).CombinedOutput()
		if err != nil || strings.TrimSpace(string(got)) != want {
			t.Fatalf("%s printed %q (%v), want %q", name, got, err, want)
		}
	}
	current := build("current")
	prints("current", "one")

	if err := copyExecutable(os.Args[0], target); err != nil {
		t.Fatal(err)
	}
	relinked := build("relinked")
	if stale, _ := os.ReadFile(os.Args[0]); bytes.Equal(relinked, stale) {
		t.Fatal("Build served the stale binary it found in the kept file")
	}
	if !bytes.Equal(relinked, current) {
		t.Fatalf("a fresh link (%d bytes) differs from what Build served before (%d bytes)", len(relinked), len(current))
	}

	// A link writes a new file (renamed onto the target, or the target
	// removed and written anew) with the mode go build gives it, 0777 less
	// the umask (moveOrCopyFile in cmd/go); it only sets an up-to-date
	// target's times. So a mode one bit off what a link writes survives only
	// if no link happened (an inode number may be reused, a time is always
	// set).
	linked, err := os.Stat(target)
	if err != nil {
		t.Fatal(err)
	}
	marker := linked.Mode().Perm() ^ 0o001
	if err := os.Chmod(target, marker); err != nil {
		t.Fatal(err)
	}
	build("again")
	if info, err := os.Stat(target); err != nil || info.Mode().Perm() != marker {
		t.Errorf("a Build of an unchanged program linked it again (kept file %v, %v): go build should have found it up to date", info.Mode(), err)
	}

	write("main.go", "package main\n\nfunc main() { println(\"two\") }\n")
	build("edited")
	prints("edited", "two")

	if err := os.WriteFile(target, []byte("half a bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	build("after-junk")
	prints("after-junk", "two")

	// A build that fails (a compile error) leaves the kept file as it was.
	kept, _ := os.ReadFile(target)
	write("main.go", "package main\n\nfunc main() { println(\"three\")\n")
	if err := Build(t.Context(), mod, "kept", filepath.Join(out, "broken"), goBuild); err == nil {
		t.Fatal("a source that does not compile built")
	}
	if after, err := os.ReadFile(target); err != nil || !bytes.Equal(after, kept) {
		t.Errorf("a failed build changed the kept file (%v)", err)
	}
}

// TestAKilledBuildLeavesNoWorkFolder: the go command writes its work files
// under GOTMPDIR ("the directory where the go command will write temporary
// source files, packages, and binaries", go help environment) and removes
// them only when it ends on its own. A build killed with its process group
// (ctx ended) must not leave them behind.
func TestAKilledBuildLeavesNoWorkFolder(t *testing.T) {
	mod := t.TempDir()
	if target, err := keptFile(mod, "slow"); err == nil {
		t.Cleanup(func() { os.RemoveAll(filepath.Dir(target)) })
	}
	seen := filepath.Join(t.TempDir(), "gotmpdir")
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		done <- Build(ctx, mod, "slow", filepath.Join(t.TempDir(), "slow"), func(string) []string {
			return []string{"sh", "-c", `mkdir "$GOTMPDIR/go-build1" && touch "$GOTMPDIR/go-build1/x" && echo "$GOTMPDIR" > "$0" && sleep 60`, seen}
		})
	}()
	var gotmp string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		select {
		case err := <-done:
			t.Fatalf("the build ended before it was killed: %v", err)
		default:
		}
		if b, err := os.ReadFile(seen); err == nil && len(b) > 0 { // the echo's line, empty without a GOTMPDIR
			gotmp = strings.TrimSpace(string(b))
			break
		}
	}
	cancel()
	if err := <-done; err == nil {
		t.Fatal("a killed build reported success")
	}
	if gotmp == "" {
		t.Fatal("the build never saw a GOTMPDIR")
	}
	if _, err := os.Stat(gotmp); !os.IsNotExist(err) {
		t.Errorf("the killed build's GOTMPDIR %s is still there (%v)", gotmp, err)
	}
}

// TestTrimRemovesOnlyClonesNoBuildUsedForAWeek: a folder whose files all
// date from before the cutoff goes; one with a recently used file stays, so
// does the caller's own and one whose build lock a process holds.
func TestTrimRemovesOnlyClonesNoBuildUsedForAWeek(t *testing.T) {
	parent := t.TempDir()
	old := time.Now().Add(-filecache.TTL - time.Hour)
	for _, f := range []string{"gone/worker", "gone/worker.lock", "kept/worker", "kept/preflight", "mine/worker", "busy/worker", "busy/worker.lock"} {
		testtool.WriteFile(t, parent, f, "x")
		if err := os.Chtimes(filepath.Join(parent, f), old, old); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chtimes(filepath.Join(parent, "kept", "preflight"), time.Now(), time.Now()); err != nil {
		t.Fatal(err)
	}
	unlock, err := lock(t.Context(), filepath.Join(parent, "busy", "worker.lock"))
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	trim(parent, filepath.Join(parent, "mine"), time.Now().Add(-filecache.TTL))
	if _, err := os.Stat(filepath.Join(parent, "gone")); !os.IsNotExist(err) {
		t.Errorf("a clone folder unused for longer than filecache.TTL is still there: %v", err)
	}
	for _, f := range []string{"kept/worker", "mine/worker", "busy/worker"} {
		if _, err := os.Stat(filepath.Join(parent, f)); err != nil {
			t.Errorf("%s was removed: %v", f, err)
		}
	}
}
