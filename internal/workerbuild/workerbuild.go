// Package workerbuild gives tests the GPU worker binary as the AMI ships it:
// built by scripts/build-worker.sh, the command `make worker` runs, for the
// machine's own architecture so the tests can run it.
package workerbuild

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"syscall"

	"github.com/bp/infra/internal/modroot"
)

// Build writes the worker to out; env is added to the build's environment.
// The build runs in its own process group, so ending ctx stops the go
// command with every compiler and linker it started.
func Build(ctx context.Context, out string, env ...string) error {
	root, err := modroot.Find()
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, "bash", filepath.Join(root, "scripts", "build-worker.sh"), runtime.GOARCH, out)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	if msg, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%v: %w\n%s", cmd.Args, err, msg)
	}
	return nil
}
