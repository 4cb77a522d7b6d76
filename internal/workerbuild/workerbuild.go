// Package workerbuild gives tests the GPU worker binary as the AMI ships it:
// built by scripts/build-worker.sh, the command `make worker` runs, for the
// machine's own architecture so the tests can run it.
package workerbuild

import (
	"context"
	"path/filepath"
	"runtime"

	"github.com/bp/infra/internal/keptbuild"
	"github.com/bp/infra/internal/modroot"
)

// Build writes the worker to out. The script builds into a kept file
// (keptbuild), so an unchanged worker is not linked again; ending ctx stops
// the build with every compiler and linker it started.
func Build(ctx context.Context, out string) error {
	root, err := modroot.Find()
	if err != nil {
		return err
	}
	script := filepath.Join(root, "scripts", "build-worker.sh") // it builds from the module root itself
	return keptbuild.Build(ctx, root, "worker-"+runtime.GOARCH, out, func(target string) []string {
		return []string{"bash", script, runtime.GOARCH, target}
	})
}
