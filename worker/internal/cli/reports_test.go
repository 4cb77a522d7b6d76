package cli_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/bp/infra/worker/internal/fakes"
	"github.com/bp/infra/worker/internal/runner"
)

// A refusal that does not mean "lease lost" (422 is Laravel's validation
// error; a 200 with success:false carries no status at all) is retried a few
// times and then reported another way; the job is never left leased.
func TestRefusedCompleteIsRetriedThenFailedNotDropped(t *testing.T) {
	parallelFast(t)
	for name, refuse := range map[string]func(*fakes.Backend){
		"422 validation error": func(b *fakes.Backend) {
			b.Fault = func(verb string, n int) (int, string, bool) {
				return http.StatusUnprocessableEntity, "", verb == "complete"
			}
		},
		"200 with success:false": func(b *fakes.Backend) {
			b.Refuse = func(verb string, n int) (string, bool) { return "could not complete", verb == "complete" }
		},
	} {
		t.Run(name, func(t *testing.T) {
			s := newStack(t)
			refuse(s.backend)
			id := s.backend.AddJob(workflow("x"))
			w := s.start(t)
			eventually(t, "job failed for good", func() bool { return s.backend.Job(id).State == fakes.Failed })
			j := s.backend.Job(id)
			if j.Attempts != 3 || j.Leases != 3 || !strings.Contains(j.FailMessage, "backend refused complete") {
				t.Fatalf("attempts %d leases %d fail %q: each lease's refused complete must end in fail", j.Attempts, j.Leases, j.FailMessage)
			}
			if n := s.backend.Calls("complete"); n != 3*runner.RefusedTries {
				t.Fatalf("%d complete calls for 3 leases, want %d tries each", n, runner.RefusedTries)
			}
			if !logged(w.logs.String(), "backend refused complete 3 times") {
				t.Fatal("the refusal was not logged")
			}
			w.stop(t)
			checkLedger(t, s)
		})
	}
}

// A 422 heartbeat is a refused heartbeat, not a lost lease: the job runs on
// and is completed (the keeper gives up only after a whole lease without a
// successful beat).
func TestHeartbeatRefusedWith422DoesNotAbandonTheJob(t *testing.T) {
	parallelFast(t)
	s := newStack(t)
	s.backend.Fault = func(verb string, n int) (int, string, bool) {
		return http.StatusUnprocessableEntity, "", verb == "heartbeat" && n <= 3
	}
	id := s.backend.AddJob(workflow("slow"))
	s.comfy.Plan = planByTag(map[string]fakes.PromptPlan{"slow": {RunTime: 150 * time.Millisecond, OutputSize: 8}})
	w := s.start(t)
	eventually(t, "job completed", func() bool { return s.backend.Job(id).State == fakes.Completed })
	if j := s.backend.Job(id); j.Leases != 1 || j.Completions != 1 || s.backend.Calls("heartbeat") < 4 {
		t.Fatalf("leases %d completions %d heartbeats %d", j.Leases, j.Completions, s.backend.Calls("heartbeat"))
	}
	w.stop(t)
	checkLedger(t, s)
}

// When the backend refuses every way of reporting the job, the worker says
// so in the log; it is the one case left to the lease expiry.
func TestEveryReportRefusedIsLoggedNotSilent(t *testing.T) {
	parallelFast(t)
	s := newStack(t)
	s.backend.Fault = func(verb string, n int) (int, string, bool) {
		return http.StatusUnprocessableEntity, "", verb == "complete" || verb == "fail" || verb == "requeue"
	}
	s.backend.AddJob(workflow("x"))
	w := s.start(t)
	eventually(t, "the worker gave up reporting", func() bool {
		return logged(w.logs.String(), "backend refused every report of the job")
	})
	if s.backend.Calls("complete") != runner.RefusedTries || s.backend.Calls("fail") != runner.RefusedTries || s.backend.Calls("requeue") != runner.RefusedTries {
		t.Fatalf("complete %d fail %d requeue %d calls", s.backend.Calls("complete"), s.backend.Calls("fail"), s.backend.Calls("requeue"))
	}
	w.stop(t)
	if err := s.backend.CheckLedger(true); err != nil {
		t.Fatal(err)
	}
}
