package cli_test

import (
	"testing"
	"time"

	"github.com/bp/infra/worker/internal/fakes"
)

// ComfyUI goes down while the worker is idle: no poll (so no lease) until it
// answers again, then work resumes with no attempt used.
func TestComfyDownWhileIdlePausesPollingUntilItIsBack(t *testing.T) {
	parallelFast(t)
	s := newStack(t)
	w := s.start(t)
	eventually(t, "polling", func() bool { return s.backend.Calls("poll") >= 3 })
	s.comfy.Stop()
	eventually(t, "the worker noticed", func() bool { return logged(w.logs.String(), "ComfyUI does not answer") })
	polls := s.backend.Calls("poll")
	id := s.backend.AddJob(workflow("x"))
	time.Sleep(600 * time.Millisecond) // 120 poll intervals
	if n := s.backend.Calls("poll") - polls; n != 0 || s.backend.Job(id).Leases != 0 {
		t.Fatalf("%d polls, %d leases while ComfyUI was down", n, s.backend.Job(id).Leases)
	}
	s.comfy.Start(false)
	eventually(t, "job completed once ComfyUI is back", func() bool { return s.backend.Job(id).State == fakes.Completed })
	if j := s.backend.Job(id); j.Attempts != 0 || j.Leases != 1 {
		t.Fatalf("attempts %d leases %d", j.Attempts, j.Leases)
	}
	if !logged(w.logs.String(), "ComfyUI answers again: polling resumes") {
		t.Fatal("no log line for ComfyUI coming back")
	}
	w.stop(t)
	checkLedger(t, s)
}
