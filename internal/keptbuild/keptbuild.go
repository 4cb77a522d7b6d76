// Package keptbuild gives tests a Go binary without linking it on every run:
// the build writes one kept file per name in the user's cache, which Build
// copies to where the test wants it. go build links again only when the kept
// file's build ID no longer matches the build's inputs (sources,
// dependencies, flags, toolchain: the check go install makes), so an
// unchanged binary costs a build-ID check instead of a link. The build must
// embed a build ID: with -ldflags -buildid= go build links every time.
package keptbuild

import (
	"context"
	"crypto/sha256"
	"debug/buildinfo"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"github.com/bp/infra/internal/filecache"
	"github.com/bp/infra/internal/testtool"
)

// Build runs the build args(target), a command line that writes the binary
// to target (go build -o target ...), for name and copies the binary to out.
// The build runs in its own process group, which ending ctx kills whole.
// moduleRoot keeps clones apart: each has its own kept files.
func Build(ctx context.Context, moduleRoot, name, out string, args func(target string) []string) error {
	target, err := keptFile(moduleRoot, name)
	if err != nil {
		return run(ctx, args(out)) // no cache dir: build straight into out
	}
	// One build of a kept file at a time (test binaries of one go test run
	// build at once): when go build cannot rename its link onto the target
	// (another file system) it removes the target and writes a new one, and a
	// copy must never see half of it.
	unlock, err := lock(ctx, target+".lock")
	if err != nil {
		return err
	}
	defer unlock()
	// go build refuses to replace a file that is not an object file, and
	// keeps a Go binary it finds up to date: anything else there (another
	// program wrote it) goes first.
	if _, err := buildinfo.ReadFile(target); err != nil {
		_ = os.Remove(target) // none there yet: nothing to remove
	}
	if err := run(ctx, args(target)); err != nil {
		return err
	}
	return copyExecutable(target, out)
}

// keptFile is the kept file of name for the module at moduleRoot:
// <user cache dir>/bp-infra/kept-build/<hash of moduleRoot>/<name>. The
// folders of clones no build used for filecache.TTL are removed first.
func keptFile(moduleRoot, name string) (string, error) {
	parent, err := filecache.Dir("kept-build")
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256([]byte(moduleRoot))
	dir := filepath.Join(parent, hex.EncodeToString(sum[:6]))
	trim(parent, dir, time.Now().Add(-filecache.TTL))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	return filepath.Join(dir, name), nil
}

// trim removes the folders under parent, other than keep, whose files all
// date from before cutoff and whose builds no process holds. go build sets an
// up-to-date target's times to now, so a file's modification time is when a
// build last used it.
func trim(parent, keep string, cutoff time.Time) {
	dirs, _ := os.ReadDir(parent)
	for _, d := range dirs {
		dir := filepath.Join(parent, d.Name())
		if !d.IsDir() || dir == keep || usedSince(dir, cutoff) {
			continue
		}
		locks, _ := filepath.Glob(filepath.Join(dir, "*.lock"))
		var held []*os.File
		free := true
		for _, l := range locks {
			f, err := os.Open(l)
			if err != nil {
				continue
			}
			held = append(held, f)
			if syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) != nil {
				free = false // a build of that clone is running
			}
		}
		if free {
			_ = os.RemoveAll(dir)
		}
		for _, f := range held {
			f.Close()
		}
	}
}

// usedSince reports whether any file in dir changed after cutoff.
func usedSince(dir string, cutoff time.Time) bool {
	files, _ := os.ReadDir(dir)
	for _, f := range files {
		if info, err := f.Info(); err == nil && info.ModTime().After(cutoff) {
			return true
		}
	}
	return false
}

// run runs args in its own process group, with the go command's work files
// (GOTMPDIR) in a folder of its own that is removed afterwards: a go build
// killed with its group leaves its go-build* folder behind.
func run(ctx context.Context, args []string) error {
	gotmp, err := os.MkdirTemp("", "keptbuild-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(gotmp)
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Env = append(os.Environ(), "GOTMPDIR="+gotmp)
	testtool.KillGroupOnCancel(cmd)
	if msg, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%v: %w\n%s", cmd.Args, err, msg)
	}
	return nil
}

// lock holds an exclusive flock on path until unlock, giving up when ctx
// ends (it polls, so no goroutine is left blocked on the file). A lock on a
// file another clone's trim removed meanwhile is taken again on a new one.
func lock(ctx context.Context, path string) (unlock func(), err error) {
	for {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return nil, err
		}
		f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
		if err != nil {
			return nil, err
		}
		for {
			err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
			if err != syscall.EWOULDBLOCK {
				break
			}
			select {
			case <-ctx.Done():
				f.Close()
				return nil, ctx.Err()
			case <-time.After(50 * time.Millisecond):
			}
		}
		if err != nil {
			f.Close()
			return nil, err
		}
		if held, err := f.Stat(); err == nil {
			if now, err := os.Stat(path); err == nil && os.SameFile(held, now) {
				return func() { f.Close() }, nil // closing the file drops the lock
			}
		}
		f.Close() // locked a file that is no longer at path: again
	}
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
