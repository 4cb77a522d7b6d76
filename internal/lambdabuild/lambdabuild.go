// Package lambdabuild builds the Go Lambda handlers: the one go build command
// (shared by synthesis through constructs/gofunction, make lambdas-build and
// the tests) and the binaries a synth process reuses across stages and keeps
// in a cache across processes. It imports nothing of the CDK, so its tests
// need no jsii runtime.
package lambdabuild

import (
	"os"
	"os/exec"
)

// LambdaArchitecture is the architecture constructs/gofunction gives the
// functions (Lambda's names: arm64, x86_64); the handlers are built for the
// Go target of the same machine, goarch
// (TestHandlersAreStaticBinariesTheirArchitectureRuns checks the built
// binaries' machine against the Lambda developer guide).
const LambdaArchitecture = "arm64"

// goarch is the GOARCH of LambdaArchitecture's machine (go tool dist list:
// linux/arm64, linux/amd64); "" for a name Lambda does not have.
var goarch = map[string]string{"arm64": "arm64", "x86_64": "amd64"}[LambdaArchitecture]

// flags make Lambda binaries reproducible (no paths, VCS stamp or build id),
// so the asset hash only moves with the code; go list shares them to see the
// packages go build compiles.
func flags() []string {
	return []string{"-trimpath", "-buildvcs=false", "-tags", "lambda.norpc", "-ldflags", "-s -w -buildid="}
}

// command is the go build of pkgs into output, run in dir ("" the current
// folder). With several packages, output must be a folder ending in a
// separator.
func command(dir, output string, pkgs ...string) *exec.Cmd {
	cmd := exec.Command("go", append(append(append([]string{"build"}, flags()...), "-o", output), pkgs...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), buildEnv()...)
	return cmd
}

// buildEnv targets the Lambda runtime provided.al2023: a static linux binary for
// goarch.
func buildEnv() []string {
	return []string{"GOOS=linux", "GOARCH=" + goarch, "CGO_ENABLED=0"}
}
