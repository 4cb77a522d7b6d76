package packer_test

import (
	"context"
	"debug/elf"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/bp/infra/internal/workerbuild"
)

var (
	workerOnce sync.Once
	workerPath string
	workerErr  error
	// workerCtx ends a build nobody waited for when TestMain is done (a
	// -run that picks no test needing the worker).
	workerCtx, stopWorkerBuild = context.WithCancel(context.Background())
)

// workerBinary returns the worker as the AMI ships it (workerbuild, the
// command of make worker). TestMain starts the build in the background; the
// first caller waits for it.
func workerBinary(t *testing.T) string {
	t.Helper()
	workerOnce.Do(buildWorker)
	if workerErr != nil {
		t.Fatal(workerErr)
	}
	return workerPath
}

// buildWorker builds the worker once per test binary.
func buildWorker() {
	dir, err := os.MkdirTemp("", "packer-worker-")
	if err != nil {
		workerErr = fmt.Errorf("temp dir for the worker build: %w", err)
		return
	}
	workerPath = filepath.Join(dir, "worker")
	ctx, cancel := context.WithTimeout(workerCtx, 5*time.Minute)
	defer cancel()
	workerErr = workerbuild.Build(ctx, workerPath)
}

// The worker the AMI gets is static (no dynamic loader: it needs no libc on
// the image) and stripped (-ldflags -s, no symbol table).
func TestWorkerBuild_ShipsAStaticStrippedBinary(t *testing.T) {
	t.Parallel()
	f, err := elf.Open(workerBinary(t))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("the worker names a dynamic loader: not a static binary (CGO_ENABLED=0)")
		}
	}
	if f.Section(".symtab") != nil {
		t.Error("the worker has a symbol table: not built with -ldflags -s")
	}
}
