package cli_test

import (
	"context"
	"flag"
	"os"
	"testing"

	"github.com/bp/infra/worker/internal/cli"
)

// TestMain lets the test binary act as the worker process for the crash
// scenario (a real process that can be SIGKILLed), builds the worker binary
// once, and runs every scenario at once unless -parallel was given: the
// built-binary ones mostly wait on production intervals, so the package
// takes about as long as its longest scenario. Go gives the parallel tests
// their slots in no fixed order, so the limit must cover all of them, or a
// long binary scenario could start last; parallelFast bounds the in-process
// ones instead.
func TestMain(m *testing.M) {
	if os.Getenv("WORKER_CRASH_CHILD") == "1" {
		os.Exit(cli.Main(context.Background(), os.Args[1:], cli.Env{Lookup: os.LookupEnv, Stdout: os.Stderr, Stderr: os.Stderr}))
	}
	flag.Parse()
	parallelSet := false
	flag.Visit(func(f *flag.Flag) { parallelSet = parallelSet || f.Name == "test.parallel" })
	if !parallelSet {
		_ = flag.Set("test.parallel", "64")
	}
	buildWorkerFirst()
	code := m.Run()
	removeWorkerBinary()
	os.Exit(code)
}

// fastSlots lets the scenarios at the fast test intervals (fastFlags) run
// one at a time: each worker polls every 5 ms and beats every 20 ms against
// a lease of 100-300 ms, and two at once under -race on two busy cores lost
// leases. One at a time they still overlap the binary scenarios' waits, and
// all of them together take less time than the longest of those.
var fastSlots = make(chan struct{}, 1)

// parallelFast runs a fast-interval scenario in parallel with the binary
// scenarios, holding fastSlots until its cleanups (the worker's stop) are
// done. Each scenario owns its fakes, ports and temp dirs (newStack).
func parallelFast(t *testing.T) {
	t.Parallel()
	fastSlots <- struct{}{}
	t.Cleanup(func() { <-fastSlots })
}
