package packer_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
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
)

// workerBinary builds the real worker (./worker/cmd/worker) once per test
// run, or a stand-in executable while the worker does not compile.
func workerBinary(t *testing.T) string {
	t.Helper()
	workerOnce.Do(func() {
		dir, err := os.MkdirTemp("", "packer-worker-")
		if err != nil {
			workerErr = fmt.Errorf("temp dir for the worker build: %w", err)
			return
		}
		workerPath = filepath.Join(dir, "worker-linux-amd64")
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		real := exec.CommandContext(ctx, "go", "build", "-o", workerPath, "./worker/cmd/worker")
		real.Dir = ".."
		real.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := real.CombinedOutput(); err == nil {
			workerKind = "real"
			return
		} else {
			workerKind = "stand-in (./worker/cmd/worker: " + firstLine(string(out)) + ")"
		}
		src := filepath.Join(dir, "main.go")
		if err := os.WriteFile(src, []byte(standInWorker), 0o644); err != nil {
			workerErr = fmt.Errorf("write stand-in worker: %w", err)
			return
		}
		stand := exec.CommandContext(ctx, "go", "build", "-o", workerPath, src)
		stand.Dir = dir
		if out, err := stand.CombinedOutput(); err != nil {
			workerErr = fmt.Errorf("build stand-in worker: %w\n%s", err, out)
		}
	})
	if workerErr != nil {
		t.Fatal(workerErr)
	}
	t.Logf("worker binary: %s", workerKind)
	return workerPath
}

func firstLine(s string) string {
	for i, c := range s {
		if c == '\n' {
			return s[:i]
		}
	}
	return s
}

func TestMain(m *testing.M) {
	code := m.Run()
	if workerPath != "" {
		os.RemoveAll(filepath.Dir(workerPath))
	}
	os.Exit(code)
}
