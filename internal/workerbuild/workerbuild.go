// Package workerbuild gives tests the GPU worker binary as the AMI ships it:
// built by scripts/build-worker.sh, the command `make worker` runs, for the
// machine's own architecture so the tests can run it.
package workerbuild

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"syscall"
	"time"

	"github.com/bp/infra/internal/modroot"
)

// Build writes the worker to out; env is added to the build's environment.
// The build runs in its own process group, so ending ctx stops the go
// command with every compiler and linker it started.
//
// The script builds into one file per architecture in the user's cache
// (Target), which Build then copies to out. go build links again only when
// that file's build ID no longer matches the build's inputs (sources,
// dependencies, flags, toolchain: the check go install makes), so the test
// binaries that need an unchanged worker skip its ~0.7 s link.
func Build(ctx context.Context, out string, env ...string) error {
	root, err := modroot.Find()
	if err != nil {
		return err
	}
	target, err := Target()
	if err != nil {
		target = out // no cache dir: build straight into out
	} else {
		// One build of the shared file at a time (test binaries of one go
		// test run build at once): go build may rewrite it in place when
		// it cannot rename onto it, and a copy must never see half of it.
		unlock, err := lock(ctx, target+".lock")
		if err != nil {
			return err
		}
		defer unlock()
		// go build refuses to replace a file that is not an object file
		// (a truncated copy, say): start over then.
		if head, err := readHead(target); err == nil && !bytes.HasPrefix(head, []byte("\x7fELF")) {
			_ = os.Remove(target)
		}
	}
	cmd := exec.CommandContext(ctx, "bash", filepath.Join(root, "scripts", "build-worker.sh"), runtime.GOARCH, target)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	if msg, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%v: %w\n%s", cmd.Args, err, msg)
	}
	if target == out {
		return nil
	}
	return copyExecutable(target, out)
}

// Target is where Build keeps the worker it built last for this machine's
// architecture: <user cache dir>/bp-infra/worker-build/<GOARCH>/worker.
func Target() (string, error) {
	dir, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	dir = filepath.Join(dir, "bp-infra", "worker-build", runtime.GOARCH)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	return filepath.Join(dir, "worker"), nil
}

// lock holds an exclusive flock on path until unlock, giving up when ctx
// ends (it polls, so no goroutine is left blocked on the file).
func lock(ctx context.Context, path string) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() { f.Close() }, nil // closing the file drops the lock
		}
		if err != syscall.EWOULDBLOCK {
			f.Close()
			return nil, err
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// readHead returns the first bytes of path.
func readHead(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	head := make([]byte, 4)
	n, err := io.ReadFull(f, head)
	if err == io.ErrUnexpectedEOF || err == io.EOF {
		err = nil
	}
	return head[:n], err
}

// copyExecutable copies src to a new file at dst (never writing into a file
// a test may still run), executable.
func copyExecutable(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	_ = os.Remove(dst)
	o, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(o, in); err != nil {
		o.Close()
		return err
	}
	return o.Close()
}
