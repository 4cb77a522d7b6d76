package cli_test

import (
	"testing"
	"time"

	"github.com/bp/infra/worker/internal/fakes"
)

const rebalanceDoc = `{"noticeTime":"2030-01-01T00:00:00Z"}`

// During a rebalance drain the 2-minute interruption notice still requeues
// the running job at once.
func TestInterruptionNoticeDuringARebalanceDrainRequeues(t *testing.T) {
	parallelFast(t)
	s := newStack(t)
	id := s.backend.AddJob(workflow("slow"))
	s.comfy.Plan = planByTag(map[string]fakes.PromptPlan{"slow": {RunTime: 10 * time.Second}})
	w := s.start(t)
	eventually(t, "prompt running", func() bool { return s.comfy.Prompt("p-1").Running })
	s.imds.Set("events/recommendations/rebalance", rebalanceDoc)
	eventually(t, "draining", func() bool { return logged(w.logs.String(), "rebalance recommendation") })
	s.imds.SpotNotice()
	if code := w.wait(t, 3*time.Second); code != 0 {
		t.Fatalf("exit code %d", code)
	}
	if r := s.backend.Job(id).Requeues; len(r) != 1 || r[0] != "spot_interruption" {
		t.Fatalf("requeues %v, want [spot_interruption]", r)
	}
	checkLedger(t, s)
	checkProtectionCleared(t, s)
}

// A job that outlives the drain timeout is requeued with reason rebalance,
// and the worker then stands down and idles until stopped.
func TestJobOutlivingTheRebalanceDrainIsRequeued(t *testing.T) {
	parallelFast(t)
	s := newStack(t)
	id := s.backend.AddJob(workflow("slow"))
	s.comfy.Plan = planByTag(map[string]fakes.PromptPlan{"slow": {RunTime: 10 * time.Second}})
	w := s.start(t, "-rebalance-drain-timeout=200ms")
	eventually(t, "prompt running", func() bool { return s.comfy.Prompt("p-1").Running })
	s.imds.Set("events/recommendations/rebalance", rebalanceDoc)
	eventually(t, "requeued", func() bool { return len(s.backend.Job(id).Requeues) == 1 })
	if r := s.backend.Job(id).Requeues; r[0] != "rebalance" || !s.comfy.Prompt("p-1").Interrupted {
		t.Fatalf("requeues %v, prompt %+v", r, s.comfy.Prompt("p-1"))
	}
	eventually(t, "stood down", func() bool { return !s.backend.Registered(instanceID) && !s.asg.Protected(instanceID) })
	polls := s.backend.Calls("poll")
	time.Sleep(100 * time.Millisecond) // twenty poll intervals
	select {
	case code := <-w.done:
		w.done <- code
		t.Fatalf("worker exited (%d) after standing down", code)
	default:
	}
	if s.backend.Calls("poll") != polls || s.backend.Job(id).Leases != 1 {
		t.Fatal("the worker took work again after standing down")
	}
	if code := w.stop(t); code != 0 {
		t.Fatalf("exit code %d", code)
	}
	checkLedger(t, s)
	checkProtectionCleared(t, s)
}
