package cli_test

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/bp/infra/worker/internal/fakes"
)

// Calls the worker has already sent when it stops or moves on: cancelling
// one does not unsend it, the backend still acts on it. These scenarios hold
// a call inside the fake backend (OnCall) while the worker goes on.

// TestStopDuringAPollOnTheWireRequeuesTheJobItLeased: SIGTERM arrives while a
// poll is on the wire and the backend leases a job to it. The worker reads
// that reply (within the stop grace) and shutdown requeues the job; cut off,
// the job would stay leased until its lease expired.
func TestStopDuringAPollOnTheWireRequeuesTheJobItLeased(t *testing.T) {
	parallelFast(t)
	s := newStack(t)
	var armed atomic.Bool
	held := make(chan struct{}, 1)
	s.backend.OnCall = func(verb string) {
		if verb == "poll" && armed.Load() {
			select {
			case held <- struct{}{}:
			default:
			}
			time.Sleep(300 * time.Millisecond)
		}
	}
	w := s.start(t)
	eventually(t, "worker polls", func() bool { return s.backend.Calls("poll") > 0 })
	armed.Store(true)
	id := s.backend.AddJob(workflow("quick"))
	select {
	case <-held:
	case <-time.After(5 * time.Second):
		t.Fatal("no poll reached the backend")
	}
	w.stop(t) // SIGTERM while the backend is still answering that poll
	j := s.backend.Job(id)
	if j.State != fakes.Queued || len(j.Requeues) != 1 || j.Requeues[0] != "shutdown" {
		t.Fatalf("job %s, requeues %v: the job leased to the poll the stop cut short must be requeued at once", j.State, j.Requeues)
	}
	checkLedger(t, s)
}

// TestHeartbeatOnTheWireLandsBeforeTheOutcome: the job finishes while a
// heartbeat is on the wire. The worker waits for that heartbeat's reply (within
// the stop grace) before it reports complete, so the backend never sees a
// heartbeat after the job's outcome.
func TestHeartbeatOnTheWireLandsBeforeTheOutcome(t *testing.T) {
	parallelFast(t)
	s := newStack(t)
	id := s.backend.AddJob(workflow("beat"))
	// One heartbeat (every 1 s) falls inside the 1.2 s prompt, and is held
	// for less than its 1 s timeout (the beat's own deadline is the interval).
	s.comfy.Plan = planByTag(map[string]fakes.PromptPlan{"beat": {RunTime: 1200 * time.Millisecond, OutputSize: 10}})
	var beats atomic.Int32
	s.backend.OnCall = func(verb string) {
		if verb != "heartbeat" || beats.Add(1) != 1 {
			return
		}
		// Hold the first heartbeat until the job's output is uploaded: the
		// worker is about to report complete while this beat is on the wire.
		deadline := time.Now().Add(5 * time.Second)
		for _, done := s.backend.Uploaded(id); !done && time.Now().Before(deadline); _, done = s.backend.Uploaded(id) {
			time.Sleep(5 * time.Millisecond)
		}
		time.Sleep(200 * time.Millisecond)
	}
	w := s.start(t, "-heartbeat-interval=1s", "-lease-ttl=20s")
	eventually(t, "job completed", func() bool { return s.backend.Job(id).State == fakes.Completed })
	if beats.Load() < 1 {
		t.Fatal("no heartbeat was sent during the job: the scenario did not happen")
	}
	// The held heartbeat is served even if the worker gave up on it (before
	// the stop: after deregister it would only get a 401).
	eventually(t, "every heartbeat that arrived served", func() bool { return s.backend.Calls("heartbeat") == int(beats.Load()) })
	w.stop(t)
	checkLedger(t, s) // "heartbeat for job 1 after its lease ended by complete" otherwise
}
