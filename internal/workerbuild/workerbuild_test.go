package workerbuild

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestBuildServesAFreshBuildEvenOverAStaleTarget: after the kept target is
// replaced by another Go binary (this test's: a stale build), Build links
// again (go build checks the target's build ID against its inputs) and
// serves byte for byte what it served before from the kept file; a Build of
// an unchanged worker then leaves the target alone.
func TestBuildServesAFreshBuildEvenOverAStaleTarget(t *testing.T) {
	target, err := Target()
	if err != nil {
		t.Skipf("no user cache dir (Build builds straight into its output): %v", err)
	}
	dir := t.TempDir()
	build := func(name string) []byte {
		t.Helper()
		out := filepath.Join(dir, name)
		if err := Build(t.Context(), out); err != nil {
			t.Fatal(err)
		}
		if info, err := os.Stat(out); err != nil || info.Mode().Perm()&0o100 == 0 {
			t.Fatalf("%s is not an executable file: %v %v", name, info, err)
		}
		b, _ := os.ReadFile(out)
		return b
	}
	current := build("current") // from the kept file, or linked now

	unlock, err := lock(t.Context(), target+".lock") // other test binaries may be building it
	if err != nil {
		t.Fatal(err)
	}
	err = copyExecutable(os.Args[0], target+".tmp")
	if err == nil {
		err = os.Rename(target+".tmp", target)
	}
	unlock()
	if err != nil {
		t.Fatal(err)
	}
	stale, _ := os.ReadFile(os.Args[0])

	relinked := build("relinked")
	if bytes.Equal(relinked, stale) {
		t.Fatal("Build served the stale binary it found in the kept file")
	}
	if len(current) == 0 || !bytes.Equal(relinked, current) {
		t.Fatalf("a fresh link (%d bytes) differs from what Build served from the kept file (%d bytes)", len(relinked), len(current))
	}

	before, err := os.Stat(target)
	if err != nil {
		t.Fatal(err)
	}
	build("again")
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
