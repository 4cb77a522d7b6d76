package lambdabuild

import (
	"bytes"
	"debug/elf"
	"os"
	"path/filepath"
	"testing"

	"github.com/bp/infra/internal/filecache"
	"github.com/bp/infra/internal/modroot"
)

// TestHandlersAreStaticBinariesTheirArchitectureRuns builds DB-init (blocker
// 6: a self-contained Go binary, no driver to package) and the reaper fresh,
// with command in one go build, and checks that:
//   - each is a static executable (no interpreter, shared library or dynamic
//     section), which Lambda's OS-only runtime provided.al2023 runs as is;
//   - each is for the machine of the Lambda architecture the functions get;
//   - what binary serves (from the cache when an earlier process filled it)
//     and WriteBootstrap writes for the asset is byte for byte the fresh
//     build, so cached asset hashes are the fresh ones, and a second request
//     is served the same binary.
func TestHandlersAreStaticBinariesTheirArchitectureRuns(t *testing.T) {
	t.Parallel()
	root, err := modroot.Find()
	if err != nil {
		t.Fatal(err)
	}
	keys, err := buildKeys(root, "./lambdas/cmd/...")
	if err != nil {
		t.Fatal(err)
	}
	// The machine each Lambda architecture runs, from the Lambda developer
	// guide (instruction set architectures): "arm64 – 64-bit ARM
	// architecture", "x86_64 – 64-bit x86 architecture".
	runs := map[string]elf.Machine{"arm64": elf.EM_AARCH64, "x86_64": elf.EM_X86_64}
	want, ok := runs[LambdaArchitecture]
	if !ok {
		t.Fatalf("LambdaArchitecture %q is none of Lambda's", LambdaArchitecture)
	}
	pkgs := []string{"./lambdas/cmd/dbinit", "./lambdas/cmd/reaper"}
	var dirs []string
	for _, pkg := range pkgs {
		dirs = append(dirs, filepath.Join(root, pkg))
	}
	fresh, err := buildPackages(root, dirs)
	if err != nil {
		t.Fatal(err)
	}
	for i, pkg := range pkgs {
		dir := dirs[i]
		t.Run(filepath.Base(pkg), func(t *testing.T) {
			checkStatic(t, fresh[dir], want)
			served, err := binary(root, pkg)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(served, fresh[dir]) {
				t.Fatalf("served binary (%d bytes) differs from a fresh go build (%d bytes)", len(served), len(fresh[dir]))
			}
			if again, _ := binary(root, pkg); !bytes.Equal(again, served) {
				t.Fatal("a second request got another binary")
			}
			// What the asset holds: an executable named bootstrap, the file
			// an OS-only runtime starts (Lambda developer guide, Go .zip
			// deployment).
			out := t.TempDir()
			if err := WriteBootstrap(root, pkg, out); err != nil {
				t.Fatal(err)
			}
			written, err := os.ReadFile(filepath.Join(out, "bootstrap"))
			fi, statErr := os.Stat(filepath.Join(out, "bootstrap"))
			if err != nil || statErr != nil || fi.Mode().Perm()&0o111 != 0o111 || !bytes.Equal(written, fresh[dir]) {
				t.Fatalf("bootstrap written: %v %v, mode %v, same as the fresh build %v", err, statErr, fi.Mode(), bytes.Equal(written, fresh[dir]))
			}
			if keys[dir] == "" {
				t.Fatalf("no cache key for %s: %v", pkg, keys)
			}
			if cached, ok := filecache.Open(cacheFolder).Get(keys[dir]); ok && !bytes.Equal(cached, fresh[dir]) {
				t.Fatal("the cache holds a binary that differs from a fresh go build")
			}
		})
	}
}

func checkStatic(t *testing.T, bin []byte, machine elf.Machine) {
	t.Helper()
	f, err := elf.NewFile(bytes.NewReader(bin))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.Machine != machine {
		t.Errorf("machine = %v, but the functions run on Lambda architecture %s (%v)", f.Machine, LambdaArchitecture, machine)
	}
	if f.Type != elf.ET_EXEC {
		t.Errorf("ELF type %v, want a static, non-PIE executable", f.Type)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("the binary needs a dynamic loader; provided.al2023 wants a static one")
		}
	}
	if libs, err := f.ImportedLibraries(); err != nil || len(libs) > 0 {
		t.Errorf("shared libraries needed at run time: %v (%v)", libs, err)
	}
	if f.Section(".dynamic") != nil {
		t.Error("a dynamic section in a CGO_ENABLED=0 build")
	}
}
