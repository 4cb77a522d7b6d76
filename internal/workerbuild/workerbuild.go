// Package workerbuild gives tests the GPU worker binary as the AMI ships it:
// built by scripts/build-worker.sh, the command `make worker` runs, for the
// machine's own architecture so the tests can run it.
package workerbuild

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
)

// Command returns the build of the worker into out; callers may add to its
// environment and process attributes before running it.
func Command(ctx context.Context, out string) (*exec.Cmd, error) {
	root, err := moduleRoot()
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, "bash", filepath.Join(root, "scripts", "build-worker.sh"), runtime.GOARCH, out)
	cmd.Dir = root
	return cmd, nil
}

// moduleRoot is the closest folder above the working directory (a test's
// package folder) holding go.mod.
func moduleRoot() (string, error) {
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
			return "", errors.New("workerbuild: no go.mod above the working directory")
		}
		dir = parent
	}
}
