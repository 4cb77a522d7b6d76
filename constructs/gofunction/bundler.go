// Package gofunction builds Lambda functions from this module's Go packages,
// compiled at synth time (no Docker) for provided.al2023 on arm64.
package gofunction

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
	"github.com/bp/infra/internal/filecache"
	"github.com/bp/infra/internal/lambdabuild"
	"github.com/bp/infra/internal/modroot"
)

// localGoBuild compiles one package of the module into outputDir/bootstrap.
// It is passed to CDK as a pointer (jsii needs a stable receiver).
type localGoBuild struct {
	moduleRoot string
	pkg        string // e.g. ./lambdas/cmd/dbinit
}

// The first bundle request (or Prefetch, earlier) keys every handler beside
// the requested one (the main packages under its parent folder,
// ./lambdas/...) by its build inputs, takes the binaries a process built
// before from the cache (cache.go) and builds the rest in one go build (they
// compile and link in parallel). The binaries then serve every stage for the
// life of the process.
var (
	builtMu    sync.Mutex
	built      = map[string][]byte{} // package dir -> binary
	prefetched sync.Map              // module root + folder -> true
)

// Prefetch readies the binaries of the handlers under dir (module-relative,
// e.g. "lambdas") in the background while the caller goes on defining
// constructs; a bundle request waits for it. Any failure is left to the
// bundle request, which reports it.
func Prefetch(dir string) {
	root, err := modroot.Find()
	if err != nil {
		return
	}
	if _, again := prefetched.LoadOrStore(root+"\x00"+dir, true); again {
		return
	}
	// Locked here and unlocked by the goroutine, so no bundle request (nor a
	// Prefetch of another folder) overtakes it: they wait for it to finish.
	builtMu.Lock()
	go func() {
		defer builtMu.Unlock()
		defer func() { _ = recover() }()
		fill(root, "./"+filepath.ToSlash(dir)+"/...", "")
	}()
}

// TryBundle implements awscdk.ILocalBundling.
func (b *localGoBuild) TryBundle(outputDir *string, _ *awscdk.BundlingOptions) *bool {
	builtMu.Lock()
	defer builtMu.Unlock()
	dir := filepath.Join(b.moduleRoot, b.pkg)
	if _, ok := built[dir]; !ok {
		pattern := b.pkg
		if parent := filepath.Dir(b.pkg); parent != "." {
			pattern = "./" + filepath.ToSlash(parent) + "/..."
		}
		fill(b.moduleRoot, pattern, dir)
	}
	target := filepath.Join(*outputDir, "bootstrap")
	if err := os.WriteFile(target, built[dir], 0o755); err != nil {
		panic(fmt.Sprintf("writing %s: %v", target, err))
	}
	return jsii.Bool(true)
}

// fill puts into built every main package matching pattern, and the package
// folder want unless it is "", from the cache where it has them. Callers hold
// builtMu.
func fill(moduleRoot, pattern, want string) {
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
		return
	}
	for dir, bin := range buildPackages(moduleRoot, missing) {
		built[dir] = bin
		if key, ok := keys[dir]; ok {
			cache.Put(key, bin)
		}
	}
}

// buildPackages compiles the package folders dirs of moduleRoot into a
// scratch folder with one go build and returns the binaries by folder.
func buildPackages(moduleRoot string, dirs []string) map[string][]byte {
	slices.Sort(dirs)
	names := map[string]string{}
	var pkgs []string
	for _, dir := range dirs {
		if other, clash := names[filepath.Base(dir)]; clash {
			panic(fmt.Sprintf("Lambda packages %s and %s build to the same binary name", other, dir))
		}
		names[filepath.Base(dir)] = dir
		rel, err := filepath.Rel(moduleRoot, dir)
		if err != nil {
			panic(err)
		}
		pkgs = append(pkgs, "./"+filepath.ToSlash(rel))
	}
	scratch, err := os.MkdirTemp("", "lambda-build-")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(scratch)
	if out, err := lambdabuild.Command(moduleRoot, scratch+string(filepath.Separator), pkgs...).CombinedOutput(); err != nil {
		// A failed build must fail synthesis loudly, never fall back to Docker.
		panic(fmt.Sprintf("go build %v for Lambda failed: %v\n%s", pkgs, err, out))
	}
	out := map[string][]byte{}
	for _, dir := range dirs {
		bin, err := os.ReadFile(filepath.Join(scratch, filepath.Base(dir)))
		if err != nil {
			panic(fmt.Sprintf("go build left no binary for %s: %v", dir, err))
		}
		out[dir] = bin
	}
	return out
}
