// Package lambdabuild is the one go build command of the Go Lambda handlers,
// shared by synthesis (constructs/gofunction), make lambdas-build
// (tools/lambdabuild) and the handlers' own build tests. It imports nothing
// of the CDK, so a handler's test can use it without linking the CDK.
package lambdabuild

// Flags make Lambda binaries reproducible (no paths, VCS stamp or build id),
// so the asset hash only moves with the code; go list shares them to see the
// packages go build compiles.
func Flags() []string {
	return []string{"-trimpath", "-buildvcs=false", "-tags", "lambda.norpc", "-ldflags", "-s -w -buildid="}
}

// Args are the go build arguments. With several packages, output must be a
// folder ending in a separator.
func Args(output string, pkgs ...string) []string {
	return append(append(append([]string{"build"}, Flags()...), "-o", output), pkgs...)
}

// Env targets the Lambda runtime provided.al2023 on arm64: a static
// linux/arm64 binary.
func Env() []string {
	return []string{"GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0"}
}
