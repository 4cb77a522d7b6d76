// Package workerbuild gives tests the GPU worker binary as the AMI ships it:
// built by scripts/build-worker.sh, the command `make worker` runs, for the
// machine's own architecture so the tests can run it.
package workerbuild

import (
	"context"
	"os/exec"
	"path/filepath"
	"runtime"

	"github.com/bp/infra/internal/modroot"
)

// Command returns the build of the worker into out; callers may add to its
// environment and process attributes before running it.
func Command(ctx context.Context, out string) (*exec.Cmd, error) {
	root, err := modroot.Find()
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, "bash", filepath.Join(root, "scripts", "build-worker.sh"), runtime.GOARCH, out)
	cmd.Dir = root
	return cmd, nil
}
