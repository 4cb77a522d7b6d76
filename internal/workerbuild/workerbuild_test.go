package workerbuild

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/bp/infra/internal/modroot"
)

// TestBuildServesAFreshBuildEvenOverAStaleTarget: what Build writes is byte
// for byte what scripts/build-worker.sh builds now into a new file, also
// after the kept target was replaced by another Go binary (this test's: a
// stale build; go build checks the target's build ID against its inputs and
// links again), and a second Build leaves an up-to-date target alone.
func TestBuildServesAFreshBuildEvenOverAStaleTarget(t *testing.T) {
	root, err := modroot.Find()
	if err != nil {
		t.Fatal(err)
	}
	target, err := Target()
	if err != nil {
		t.Skipf("no user cache dir (Build builds straight into its output): %v", err)
	}
	unlock, err := lock(t.Context(), target+".lock") // other test binaries may be building it
	if err != nil {
		t.Fatal(err)
	}
	if err := copyExecutable(os.Args[0], target+".tmp"); err != nil {
		unlock()
		t.Fatal(err)
	}
	err = os.Rename(target+".tmp", target)
	unlock()
	if err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	served := filepath.Join(dir, "served")
	if err := Build(t.Context(), served); err != nil {
		t.Fatal(err)
	}
	fresh := filepath.Join(dir, "fresh")
	if out, err := exec.Command("bash", filepath.Join(root, "scripts", "build-worker.sh"), runtime.GOARCH, fresh).CombinedOutput(); err != nil {
		t.Fatalf("build-worker.sh: %v\n%s", err, out)
	}
	a, _ := os.ReadFile(served)
	b, _ := os.ReadFile(fresh)
	if len(b) == 0 || !bytes.Equal(a, b) {
		t.Fatalf("Build served %d bytes that differ from a fresh build-worker.sh (%d bytes)", len(a), len(b))
	}
	if info, err := os.Stat(served); err != nil || info.Mode().Perm()&0o100 == 0 {
		t.Fatalf("served worker is not executable: %v %v", info, err)
	}

	before, err := os.Stat(target)
	if err != nil {
		t.Fatal(err)
	}
	if err := Build(t.Context(), filepath.Join(dir, "again")); err != nil {
		t.Fatal(err)
	}
	after, err := os.Stat(target)
	if err != nil {
		t.Fatal(err)
	}
	// A link renames a new file onto the target (a new inode; go build
	// only touches an up-to-date target's times, so those prove nothing).
	if !os.SameFile(before, after) {
		t.Error("a second Build of an unchanged worker linked it again: go build should have found the target up to date")
	}
}
