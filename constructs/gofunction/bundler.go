// Package gofunction builds Lambda functions from this module's Go packages,
// compiled at synth time (no Docker) for provided.al2023 on arm64.
package gofunction

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
)

// localGoBuild compiles one package of the module into outputDir/bootstrap.
// It is passed to CDK as a pointer (jsii needs a stable receiver).
type localGoBuild struct {
	moduleRoot string
	pkg        string // e.g. ./lambdas/dbinit
}

// Every function registers its package when it is defined; the first bundle
// request builds all registered packages in one go build (they compile and
// link in parallel), and the binaries serve every stage for the life of the
// process.
var (
	builtMu sync.Mutex
	pending = map[string]string{} // package -> module root
	built   = map[string][]byte{}
)

// register queues a package for the next batch build.
func register(root, pkg string) {
	builtMu.Lock()
	defer builtMu.Unlock()
	if _, done := built[pkg]; !done {
		pending[pkg] = root
	}
}

// TryBundle implements awscdk.ILocalBundling.
func (b *localGoBuild) TryBundle(outputDir *string, _ *awscdk.BundlingOptions) *bool {
	builtMu.Lock()
	defer builtMu.Unlock()
	if _, ok := built[b.pkg]; !ok {
		pending[b.pkg] = b.moduleRoot
		buildPending(b.moduleRoot)
	}
	target := filepath.Join(*outputDir, "bootstrap")
	if err := os.WriteFile(target, built[b.pkg], 0o755); err != nil {
		panic(fmt.Sprintf("writing %s: %v", target, err))
	}
	return jsii.Bool(true)
}

// buildPending compiles every pending package of moduleRoot into a scratch
// folder with one go build and keeps the binaries. Callers hold builtMu.
func buildPending(moduleRoot string) {
	var pkgs []string
	for pkg, root := range pending {
		if root == moduleRoot {
			pkgs = append(pkgs, pkg)
		}
	}
	slices.Sort(pkgs)
	names := map[string]string{}
	for _, pkg := range pkgs {
		if other, clash := names[filepath.Base(pkg)]; clash {
			panic(fmt.Sprintf("Lambda packages %s and %s build to the same binary name", other, pkg))
		}
		names[filepath.Base(pkg)] = pkg
	}
	dir, err := os.MkdirTemp("", "lambda-build-")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	cmd := exec.Command("go", BuildArgs(dir+string(filepath.Separator), pkgs...)...)
	cmd.Dir = moduleRoot
	cmd.Env = append(os.Environ(), BuildEnv()...)
	if out, err := cmd.CombinedOutput(); err != nil {
		// A failed build must fail synthesis loudly, never fall back to Docker.
		panic(fmt.Sprintf("go build %v for Lambda failed: %v\n%s", pkgs, err, out))
	}
	for _, pkg := range pkgs {
		bin, err := os.ReadFile(filepath.Join(dir, filepath.Base(pkg)))
		if err != nil {
			panic(fmt.Sprintf("go build left no binary for %s: %v", pkg, err))
		}
		built[pkg] = bin
		delete(pending, pkg)
	}
}

// BuildArgs are the go build arguments of Lambda binaries: reproducible
// (no paths, VCS stamp or build id), so the asset hash only moves with the
// code. With several packages, output must be a folder ending in a separator.
func BuildArgs(output string, pkgs ...string) []string {
	return append([]string{"build", "-trimpath", "-buildvcs=false", "-tags", "lambda.norpc",
		"-ldflags", "-s -w -buildid=", "-o", output}, pkgs...)
}

// BuildEnv targets the Lambda runtime: a static linux/arm64 binary.
func BuildEnv() []string {
	return []string{"GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0"}
}

// ModuleRoot finds the directory holding go.mod, from the working directory up,
// so synthesis works from the repository root (cdk) and from test/ (go test).
func ModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod above the working directory")
		}
		dir = parent
	}
}
