// Package gofunction builds Lambda functions from this module's Go packages,
// compiled at synth time (no Docker) for provided.al2023 by
// internal/lambdabuild.
package gofunction

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
	"github.com/bp/infra/internal/lambdabuild"
	"github.com/bp/infra/internal/modroot"
)

// localGoBuild writes the binary of one package of the module to
// outputDir/bootstrap. It is passed to CDK as a pointer (jsii needs a stable
// receiver).
type localGoBuild struct {
	moduleRoot string
	pkg        string // e.g. ./lambdas/cmd/dbinit
}

// Prefetch readies the binaries of the handlers under dir (module-relative,
// e.g. "lambdas/cmd") in the background while the caller goes on defining
// constructs; a bundle request waits for it.
func Prefetch(dir string) {
	if root, err := modroot.Find(); err == nil {
		lambdabuild.Prefetch(root, dir)
	}
}

// TryBundle implements awscdk.ILocalBundling. A failed build fails synthesis
// loudly, never falling back to Docker.
func (b *localGoBuild) TryBundle(outputDir *string, _ *awscdk.BundlingOptions) *bool {
	if err := lambdabuild.WriteBootstrap(b.moduleRoot, b.pkg, *outputDir); err != nil {
		panic(fmt.Sprintf("bundling %s: %v", b.pkg, err))
	}
	return jsii.Bool(true)
}
