package lambdabuild

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"

	"github.com/bp/infra/internal/filecache"
)

// The first binary call keys every handler beside the requested one (the
// main packages under its parent folder, ./lambdas/cmd/...; Prefetch, earlier,
// those under the folder it is given) by its build inputs, takes the binaries
// a process built before from the cache (cache.go) and builds the rest in one
// go build (they compile and link in parallel). The binaries then serve every
// stage for the life of the process; a failed build is not remembered, so the
// next request builds again and reports its own error.
var (
	builtMu    sync.Mutex
	built      = map[string][]byte{} // package dir -> binary
	prefetched sync.Map              // module root + folder -> true
)

// Prefetch readies the binaries of the handlers under dir (module-relative,
// e.g. "lambdas/cmd") in the background while the caller goes on; a binary call
// waits for it. Any failure is left to the binary call, which reports it.
func Prefetch(moduleRoot, dir string) {
	if _, again := prefetched.LoadOrStore(moduleRoot+"\x00"+dir, true); again {
		return
	}
	// Locked here and unlocked by the goroutine, so no binary call (nor a
	// Prefetch of another folder) overtakes it: they wait for it to finish.
	builtMu.Lock()
	go func() {
		defer builtMu.Unlock()
		_ = fill(moduleRoot, "./"+filepath.ToSlash(dir)+"/...", "")
	}()
}

// WriteBootstrap writes the binary of pkg to outputDir/bootstrap, the
// executable Lambda's OS-only runtimes start (provided.al2023).
func WriteBootstrap(moduleRoot, pkg, outputDir string) error {
	bin, err := binary(moduleRoot, pkg)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(outputDir, "bootstrap"), bin, 0o755)
}

// binary is the Lambda binary of pkg (module-relative, e.g.
// ./lambdas/cmd/dbinit), built with command once per process. Every caller
// gets the same bytes: read them, never change them.
func binary(moduleRoot, pkg string) ([]byte, error) {
	builtMu.Lock()
	defer builtMu.Unlock()
	dir := filepath.Join(moduleRoot, pkg)
	if _, ok := built[dir]; !ok {
		pattern := pkg
		if parent := filepath.Dir(pkg); parent != "." {
			pattern = "./" + filepath.ToSlash(parent) + "/..."
		}
		if err := fill(moduleRoot, pattern, dir); err != nil {
			return nil, err
		}
	}
	return built[dir], nil
}

// fill puts into built every main package matching pattern, and the package
// folder want unless it is "", from the cache where it has them. Callers hold
// builtMu.
func fill(moduleRoot, pattern, want string) error {
	keys, _ := buildKeys(moduleRoot, pattern) // none on error: no cache this time; the build below reports real errors
	cache := filecache.Open(cacheFolder)
	var missing []string
	for dir, key := range keys {
		if _, done := built[dir]; done {
			continue
		}
		if bin, ok := cache.Get(key); ok {
			built[dir] = bin
		} else {
			missing = append(missing, dir)
		}
	}
	if _, known := keys[want]; want != "" && !known {
		missing = append(missing, want) // not listed (or not keyed): build it uncached
	}
	if len(missing) == 0 {
		return nil
	}
	bins, err := buildPackages(moduleRoot, missing)
	if err != nil {
		return err
	}
	for dir, bin := range bins {
		built[dir] = bin
		if key, ok := keys[dir]; ok {
			cache.Put(key, bin)
		}
	}
	return nil
}

// buildPackages compiles the package folders dirs of moduleRoot into a
// scratch folder with one go build and returns the binaries by folder.
func buildPackages(moduleRoot string, dirs []string) (map[string][]byte, error) {
	slices.Sort(dirs)
	names := map[string]string{}
	var pkgs []string
	for _, dir := range dirs {
		if other, clash := names[filepath.Base(dir)]; clash {
			return nil, fmt.Errorf("Lambda packages %s and %s build to the same binary name", other, dir)
		}
		names[filepath.Base(dir)] = dir
		rel, err := filepath.Rel(moduleRoot, dir)
		if err != nil {
			return nil, err
		}
		pkgs = append(pkgs, "./"+filepath.ToSlash(rel))
	}
	scratch, err := os.MkdirTemp("", "lambda-build-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(scratch)
	if out, err := command(moduleRoot, scratch+string(filepath.Separator), pkgs...).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("go build %v for Lambda failed: %v\n%s", pkgs, err, out)
	}
	out := map[string][]byte{}
	for _, dir := range dirs {
		bin, err := os.ReadFile(filepath.Join(scratch, filepath.Base(dir)))
		if err != nil {
			return nil, fmt.Errorf("go build left no binary for %s: %v", dir, err)
		}
		out[dir] = bin
	}
	return out, nil
}
