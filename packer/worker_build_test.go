package packer_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"
)

// standInWorker answers the subcommands the units and the self-check call.
// It is used only while ./worker/cmd/worker does not compile yet.
const standInWorker = `package main

import (
	"fmt"
	"os"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "check" {
		fmt.Println("stand-in worker: check ok")
		return
	}
	fmt.Fprintln(os.Stderr, "stand-in worker: unsupported", os.Args[1:])
	os.Exit(2)
}
`

var (
	workerOnce sync.Once
	workerPath string
	workerKind string
	workerErr  error
	// workerCtx ends a build nobody waited for when TestMain is done (a
	// -run that picks no test needing the worker).
	workerCtx, stopWorkerBuild = context.WithCancel(context.Background())
)

// workerBinary returns the real worker (./worker/cmd/worker), or a stand-in
// executable while the worker does not compile. TestMain starts the build in
// the background; the first caller waits for it.
func workerBinary(t *testing.T) string {
	t.Helper()
	workerOnce.Do(buildWorker)
	if workerErr != nil {
		t.Fatal(workerErr)
	}
	t.Logf("worker binary: %s", workerKind)
	return workerPath
}

// buildWorker builds the worker once per test binary. The go command runs
// in its own process group with its work files under dir, so a cancelled
// build leaves neither compilers running nor files behind.
func buildWorker() {
	dir, err := os.MkdirTemp("", "packer-worker-")
	if err != nil {
		workerErr = fmt.Errorf("temp dir for the worker build: %w", err)
		return
	}
	workerPath = filepath.Join(dir, "worker-linux-amd64")
	gotmp := filepath.Join(dir, "gotmp")
	if err := os.Mkdir(gotmp, 0o700); err != nil {
		workerErr = fmt.Errorf("temp dir for the go command: %w", err)
		return
	}
	ctx, cancel := context.WithTimeout(workerCtx, 5*time.Minute)
	defer cancel()
	goBuild := func(dir string, env []string, args ...string) ([]byte, error) {
		cmd := exec.CommandContext(ctx, "go", append([]string{"build", "-o", workerPath}, args...)...)
		cmd.Dir = dir
		cmd.Env = append(append(os.Environ(), "GOTMPDIR="+gotmp), env...)
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
		return cmd.CombinedOutput()
	}
	if out, err := goBuild("..", []string{"CGO_ENABLED=0"}, "./worker/cmd/worker"); err == nil {
		workerKind = "real"
		return
	} else if ctx.Err() != nil {
		workerErr = fmt.Errorf("worker build: %w", ctx.Err())
		return
	} else {
		workerKind = "stand-in (./worker/cmd/worker: " + firstLine(string(out)) + ")"
	}
	src := filepath.Join(dir, "main.go")
	if err := os.WriteFile(src, []byte(standInWorker), 0o644); err != nil {
		workerErr = fmt.Errorf("write stand-in worker: %w", err)
		return
	}
	if out, err := goBuild(dir, nil, src); err != nil {
		workerErr = fmt.Errorf("build stand-in worker: %w\n%s", err, out)
	}
}

func firstLine(s string) string {
	for i, c := range s {
		if c == '\n' {
			return s[:i]
		}
	}
	return s
}
