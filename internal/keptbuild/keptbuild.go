// Package keptbuild gives tests a Go binary without linking it on every run:
// the build writes one kept file per name in the user's cache, which Build
// copies to where the test wants it. go build links again only when the kept
// file's build ID no longer matches the build's inputs (sources,
// dependencies, flags, toolchain: the check go install makes), so an
// unchanged binary costs a build-ID check instead of a link. The build must
// embed a build ID: with -ldflags -buildid= go build links every time.
package keptbuild

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
)

// Build runs the build command for name, which must write its binary to the
// target path it is given (go build -o target ...) and come from
// exec.CommandContext(ctx, ...), and copies the binary to out. The command runs in its own process group, and ending ctx kills the
// group (the go command with every compiler and linker it started).
// moduleRoot keeps clones apart: each has its own kept files.
func Build(ctx context.Context, moduleRoot, name, out string, command func(target string) *exec.Cmd) error {
	target, err := Target(moduleRoot, name)
	if err != nil {
		return run(command(out)) // no cache dir: build straight into out
	}
	// One build of a kept file at a time (test binaries of one go test run
	// build at once): go build may rewrite it in place when it cannot rename
	// onto it, and a copy must never see half of it.
	unlock, err := lock(ctx, target+".lock")
	if err != nil {
		return err
	}
	defer unlock()
	// go build refuses to replace a file that is not an object file (a
	// truncated copy, say): start over then.
	if head, err := readHead(target); err == nil && !isExecutable(head) {
		_ = os.Remove(target)
	}
	if err := run(command(target)); err != nil {
		return err
	}
	return copyExecutable(target, out)
}

// Target is the kept file of name for the module at moduleRoot:
// <user cache dir>/bp-infra/kept-build/<hash of moduleRoot>/<name>. The
// folders of clones no build used for a week are removed first.
func Target(moduleRoot, name string) (string, error) {
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	parent := filepath.Join(cache, "bp-infra", "kept-build")
	sum := sha256.Sum256([]byte(moduleRoot))
	dir := filepath.Join(parent, hex.EncodeToString(sum[:6]))
	trim(parent, dir, time.Now().Add(-ttl))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	return filepath.Join(dir, name), nil
}

// ttl drops a clone's folder once no build has used it for a week.
const ttl = 7 * 24 * time.Hour

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

// run runs cmd in its own process group, which ending its context kills
// whole (the go command with every compiler and linker it started).
func run(cmd *exec.Cmd) error {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	if msg, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%v: %w\n%s", cmd.Args, err, msg)
	}
	return nil
}

// lock holds an exclusive flock on path until unlock, giving up when ctx
// ends (it polls, so no goroutine is left blocked on the file).
func lock(ctx context.Context, path string) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if os.IsNotExist(err) { // another clone's trim took the folder just now
		if err = os.MkdirAll(filepath.Dir(path), 0o755); err == nil {
			f, err = os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
		}
	}
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

// isExecutable reports whether head starts like an ELF or Mach-O binary,
// the formats go build writes on Linux and macOS.
func isExecutable(head []byte) bool {
	for _, magic := range [][]byte{[]byte("\x7fELF"), {0xcf, 0xfa, 0xed, 0xfe}, {0xce, 0xfa, 0xed, 0xfe}, {0xfe, 0xed, 0xfa, 0xcf}, {0xfe, 0xed, 0xfa, 0xce}} {
		if bytes.HasPrefix(head, magic) {
			return true
		}
	}
	return false
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
