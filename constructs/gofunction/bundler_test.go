package gofunction

import (
	"bytes"
	"debug/elf"
	"os"
	"path/filepath"
	"testing"

	"github.com/bp/infra/internal/filecache"
	"github.com/bp/infra/internal/lambdabuild"
	"github.com/bp/infra/internal/modroot"
)

// TestBundleBuildsStaticArm64OnceAndReuses: the local bundler produces a
// static linux/arm64 bootstrap and serves later stages from the first build.
func TestBundleBuildsStaticArm64OnceAndReuses(t *testing.T) {
	root, err := modroot.Find()
	if err != nil {
		t.Fatal(err)
	}
	b := &localGoBuild{moduleRoot: root, pkg: "./lambdas/cmd/scaletozero"}
	first, second := t.TempDir(), t.TempDir()
	for _, dir := range []string{first, second} {
		d := dir
		if ok := b.TryBundle(&d, nil); ok == nil || !*ok {
			t.Fatal("bundling reported failure")
		}
	}
	a, _ := os.ReadFile(filepath.Join(first, "bootstrap"))
	c, _ := os.ReadFile(filepath.Join(second, "bootstrap"))
	if len(a) == 0 || !bytes.Equal(a, c) {
		t.Fatal("second bundle differs from the first")
	}
	f, err := elf.Open(filepath.Join(first, "bootstrap"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	// The machine each Lambda architecture runs, from the Lambda developer
	// guide (instruction set architectures): "arm64 – 64-bit ARM
	// architecture", "x86_64 – 64-bit x86 architecture". The functions get
	// the architecture New gives them; the binary must be for it.
	runs := map[string]elf.Machine{"arm64": elf.EM_AARCH64, "x86_64": elf.EM_X86_64}
	arch := *lambdaArchitecture(lambdabuild.GOARCH).Name()
	if want, ok := runs[arch]; !ok || f.Machine != want {
		t.Errorf("machine = %v, but the functions run on Lambda architecture %s", f.Machine, arch)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Errorf("binary needs a dynamic loader; Lambda's provided.al2023 wants a static one")
		}
	}
}

// TestCachedBinaryIsAFreshBuild: what TryBundle serves (from the cache when
// an earlier process filled it) is byte for byte what go build writes now,
// so cached asset hashes are the fresh ones.
func TestCachedBinaryIsAFreshBuild(t *testing.T) {
	root, err := modroot.Find()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, "lambdas", "cmd", "reaper")
	keys, err := buildKeys(root, "./lambdas/...")
	if err != nil {
		t.Fatal(err)
	}
	if keys[dir] == "" || keys[filepath.Join(root, "lambdas", "cmd", "dbinit")] == "" {
		t.Fatalf("no cache keys for the handlers: %v", keys)
	}
	b := &localGoBuild{moduleRoot: root, pkg: "./lambdas/cmd/reaper"}
	out := t.TempDir()
	if ok := b.TryBundle(&out, nil); ok == nil || !*ok {
		t.Fatal("bundling reported failure")
	}
	served, _ := os.ReadFile(filepath.Join(out, "bootstrap"))
	fresh := buildPackages(root, []string{dir})[dir]
	if !bytes.Equal(served, fresh) {
		t.Fatalf("served binary (%d bytes) differs from a fresh go build (%d bytes)", len(served), len(fresh))
	}
	if cached, ok := filecache.Open(cacheFolder).Get(keys[dir]); ok && !bytes.Equal(cached, fresh) {
		t.Fatal("the cache holds a binary that differs from a fresh go build")
	}
}
