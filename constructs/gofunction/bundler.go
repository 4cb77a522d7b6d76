// Package gofunction builds Lambda functions from this module's Go packages,
// compiled at synth time (no Docker) for provided.al2023 on arm64.
package gofunction

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
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

// built remembers each package's binary for the life of the process: every
// stage bundles the same handlers, and one build serves them all.
var (
	builtMu sync.Mutex
	built   = map[string][]byte{}
)

// TryBundle implements awscdk.ILocalBundling.
func (b *localGoBuild) TryBundle(outputDir *string, _ *awscdk.BundlingOptions) *bool {
	target := filepath.Join(*outputDir, "bootstrap")
	builtMu.Lock()
	defer builtMu.Unlock()
	if bin, ok := built[b.pkg]; ok {
		if err := os.WriteFile(target, bin, 0o755); err != nil {
			panic(fmt.Sprintf("writing %s: %v", target, err))
		}
		return jsii.Bool(true)
	}
	cmd := exec.Command("go", BuildArgs(target, b.pkg)...)
	cmd.Dir = b.moduleRoot
	cmd.Env = append(os.Environ(), BuildEnv()...)
	if out, err := cmd.CombinedOutput(); err != nil {
		// A failed build must fail synthesis loudly, never fall back to Docker.
		panic(fmt.Sprintf("go build %s for Lambda failed: %v\n%s", b.pkg, err, out))
	}
	bin, err := os.ReadFile(target)
	if err != nil {
		panic(fmt.Sprintf("reading %s: %v", target, err))
	}
	built[b.pkg] = bin
	return jsii.Bool(true)
}

// BuildArgs are the go build arguments of a Lambda binary: reproducible
// (no paths, VCS stamp or build id), so the asset hash only moves with the code.
func BuildArgs(output, pkg string) []string {
	return []string{"build", "-trimpath", "-buildvcs=false", "-tags", "lambda.norpc",
		"-ldflags", "-s -w -buildid=", "-o", output, pkg}
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
