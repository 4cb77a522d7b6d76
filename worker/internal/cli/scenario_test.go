package cli_test

import (
	"context"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/bp/infra/worker/internal/fakes"
	"github.com/bp/infra/worker/internal/runner"
)

func TestHappyPath(t *testing.T) {
	parallelFast(t)
	s := newStack(t)
	asset := s.backend.AddAsset("cat.png", []byte(strings.Repeat("c", 5000)))
	ids := []int{}
	for _, tag := range []string{"a", "b", "c"} {
		p := workflow(tag)
		p["assets"] = []map[string]string{{"url": asset, "filename": "cat-" + tag + ".png"}}
		ids = append(ids, s.backend.AddJob(p))
	}
	s.comfy.Plan = planByTag(map[string]fakes.PromptPlan{"b": {OutputSize: 3 << 20}})
	w := s.start(t)
	eventually(t, "all jobs completed", func() bool {
		for _, id := range ids {
			if s.backend.Job(id).State != fakes.Completed {
				return false
			}
		}
		return true
	})
	eventually(t, "protection cleared when idle", func() bool { return !s.asg.Protected(instanceID) })
	for _, id := range ids {
		j := s.backend.Job(id)
		up, ok := s.backend.Uploaded(id)
		if !ok || up.ContentType != "image/png" || up.Headers.Get("X-Amz-Meta-Job") == "" {
			t.Fatalf("job %d upload %+v (output_headers must be sent)", id, up)
		}
		if j.Output["size"] != float64(up.Size) || j.Output["mime_type"] != "image/png" || j.Leases != 1 {
			t.Fatalf("job %d complete output %v vs uploaded %d bytes, leases %d", id, j.Output, up.Size, j.Leases)
		}
	}
	if up, _ := s.backend.Uploaded(ids[1]); up.Size != 3<<20 {
		t.Fatalf("large output uploaded as %d bytes", up.Size)
	}
	if s.comfy.Uploaded("cat-a.png") != 5000 {
		t.Fatal("input asset not uploaded to ComfyUI")
	}
	if s.backend.Calls("register") != 1 || len(s.sm.Reads()) != 1 {
		t.Fatalf("register calls %d, secret reads %v", s.backend.Calls("register"), s.sm.Reads())
	}
	// Back-to-back jobs keep protection on; it goes off once the queue is empty.
	if calls := s.asg.ProtectionCalls(); len(calls) != 2 || !calls[0].Protected || calls[1].Protected {
		t.Fatalf("protection calls %+v, want [on off]", calls)
	}
	if fi, err := os.Stat(s.tokenFile); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("token file not persisted with 0600: %v %v", fi, err)
	}
	if code := w.stop(t); code != 0 {
		t.Fatalf("exit code %d", code)
	}
	if s.backend.Registered(instanceID) {
		t.Fatal("worker did not deregister on shutdown")
	}
	if _, err := os.Stat(s.tokenFile); !os.IsNotExist(err) {
		t.Fatal("token file kept after deregister")
	}
	checkLedger(t, s)
	checkProtectionCleared(t, s)
	if !strings.Contains(w.logs.String(), `"msg":"job completed"`) {
		t.Fatal("logs are not JSON through slog")
	}
}

func TestLongJobIsKeptAliveByHeartbeats(t *testing.T) {
	parallelFast(t)
	s := newStack(t)
	// A lease of 25 heartbeat intervals (enough margin for a loaded CI box)
	// and a job four leases long.
	s.backend.LeaseTTL = 500 * time.Millisecond
	id := s.backend.AddJob(workflow("long"))
	s.comfy.Plan = planByTag(map[string]fakes.PromptPlan{"long": {RunTime: 2 * time.Second, OutputSize: 10}})
	w := s.start(t)
	eventually(t, "long job completed", func() bool { return s.backend.Job(id).State == fakes.Completed })
	j := s.backend.Job(id)
	if j.Heartbeats < 8 || j.Leases != 1 || j.Completions != 1 {
		t.Fatalf("heartbeats %d leases %d completions %d: a job 4x the lease must stay leased once", j.Heartbeats, j.Leases, j.Completions)
	}
	w.stop(t)
	checkLedger(t, s)
	checkProtectionCleared(t, s)
}

func TestLeaseLostAbandonsTheJob(t *testing.T) {
	parallelFast(t)
	s := newStack(t)
	id := s.backend.AddJob(workflow("slow"))
	s.comfy.Plan = planByTag(map[string]fakes.PromptPlan{"slow": {RunTime: 10 * time.Second}})
	w := s.start(t)
	eventually(t, "prompt running", func() bool { return s.comfy.Prompts() == 1 })
	s.backend.Hold(id) // the backend took the job back
	eventually(t, "prompt interrupted", func() bool { return s.comfy.Interrupts() >= 1 })
	pollsAfter := s.backend.Calls("poll")
	eventually(t, "worker polls again", func() bool { return s.backend.Calls("poll") > pollsAfter+2 })
	if s.backend.Calls("complete")+s.backend.Calls("fail")+s.backend.Calls("requeue") != 0 {
		t.Fatal("a job with a lost lease must not be completed, failed or requeued")
	}
	w.stop(t)
	if err := s.backend.CheckLedger(false); err != nil {
		t.Fatal(err)
	}
	checkProtectionCleared(t, s)
}

func TestComfyErrorIsReportedWithFail(t *testing.T) {
	parallelFast(t)
	s := newStack(t)
	id := s.backend.AddJob(workflow("oom"))
	s.comfy.Plan = planByTag(map[string]fakes.PromptPlan{"oom": {Error: "CUDA out of memory"}})
	w := s.start(t)
	eventually(t, "job failed for good", func() bool { return s.backend.Job(id).State == fakes.Failed })
	j := s.backend.Job(id)
	if !strings.Contains(j.FailMessage, "CUDA out of memory") || !strings.Contains(j.FailMessage, "KSampler") || j.Attempts != 3 {
		t.Fatalf("fail message %q attempts %d", j.FailMessage, j.Attempts)
	}
	w.stop(t)
	checkLedger(t, s)
}

func TestOutputUploadFailureIsRetried(t *testing.T) {
	parallelFast(t)
	s := newStack(t)
	s.backend.UploadFault = func(n int) (int, bool) { return http.StatusInternalServerError, n <= 2 }
	id := s.backend.AddJob(workflow("chunked"))
	// No Content-Length from /view: the worker spools to disk to know the size.
	s.comfy.Plan = planByTag(map[string]fakes.PromptPlan{"chunked": {OutputSize: 200000, NoLength: true, Filename: "clip.mp4"}})
	w := s.start(t)
	eventually(t, "job completed", func() bool { return s.backend.Job(id).State == fakes.Completed })
	up, _ := s.backend.Uploaded(id)
	if j := s.backend.Job(id); up.Size != 200000 || j.Output["size"] != float64(200000) {
		t.Fatalf("uploaded %d bytes, completed with %v", up.Size, j.Output)
	}
	w.stop(t)
	checkLedger(t, s)
}

func TestOutputUploadRefusedFailsTheJob(t *testing.T) {
	parallelFast(t)
	s := newStack(t)
	s.backend.UploadFault = func(int) (int, bool) { return http.StatusForbidden, true }
	id := s.backend.AddJob(workflow("x"))
	w := s.start(t)
	eventually(t, "job failed", func() bool { return s.backend.Job(id).Attempts >= 1 })
	if msg := s.backend.Job(id).FailMessage; !strings.Contains(msg, "HTTP 403") {
		t.Fatalf("fail message %q", msg)
	}
	w.stop(t)
	checkLedger(t, s)
}

func TestErrorStormsAreRetriedWithBackoff(t *testing.T) {
	parallelFast(t)
	s := newStack(t)
	s.backend.Fault = func(verb string, n int) (int, string, bool) {
		switch verb {
		case "register":
			return http.StatusServiceUnavailable, "", n <= 3
		case "poll":
			if n <= 10 {
				if n%2 == 0 {
					return http.StatusTooManyRequests, "0", true
				}
				return http.StatusBadGateway, "", true
			}
		case "heartbeat", "complete":
			return http.StatusInternalServerError, "", n <= 2
		}
		return 0, "", false
	}
	id := s.backend.AddJob(workflow("storm"))
	s.comfy.Plan = planByTag(map[string]fakes.PromptPlan{"storm": {RunTime: 100 * time.Millisecond, OutputSize: 10}})
	w := s.start(t)
	eventually(t, "job completed through the storm", func() bool { return s.backend.Job(id).State == fakes.Completed })
	if s.backend.Calls("complete") != 3 || s.backend.Job(id).Completions != 1 {
		t.Fatalf("complete calls %d, completions %d", s.backend.Calls("complete"), s.backend.Job(id).Completions)
	}
	if !strings.Contains(w.logs.String(), "backend call failed, retrying") {
		t.Fatal("retries were not logged")
	}
	w.stop(t)
	checkLedger(t, s)
}

func TestSpotNoticeMidJobRequeuesAndExits(t *testing.T) {
	parallelFast(t)
	s := newStack(t)
	id := s.backend.AddJob(workflow("slow"))
	s.comfy.Plan = planByTag(map[string]fakes.PromptPlan{"slow": {RunTime: 10 * time.Second}})
	w := s.start(t)
	eventually(t, "prompt running and protected", func() bool { return s.comfy.Prompts() == 1 && s.asg.Protected(instanceID) })
	noticeAt := time.Now()
	s.imds.SpotNotice()
	code := w.wait(t, 3*time.Second)
	took := time.Since(noticeAt)
	if code != 0 || took > 2*time.Second {
		t.Fatalf("exit code %d after %v", code, took)
	}
	j := s.backend.Job(id)
	if j.State != fakes.Queued || len(j.Requeues) != 1 || j.Requeues[0] != "spot_interruption" {
		t.Fatalf("job state %s requeues %v", j.State, j.Requeues)
	}
	if s.comfy.Interrupts() < 1 || s.backend.Registered(instanceID) {
		t.Fatalf("interrupts %d, still registered %v", s.comfy.Interrupts(), s.backend.Registered(instanceID))
	}
	checkLedger(t, s)
	checkProtectionCleared(t, s)
}

func TestScaleInNoticeRequeuesAndExits(t *testing.T) {
	parallelFast(t)
	for _, tc := range []struct{ path, body, reason string }{
		{"autoscaling/target-lifecycle-state", "Terminated", "scale_in"},
	} {
		t.Run(tc.reason, func(t *testing.T) {
			s := newStack(t)
			id := s.backend.AddJob(workflow("slow"))
			s.comfy.Plan = planByTag(map[string]fakes.PromptPlan{"slow": {RunTime: 10 * time.Second}})
			w := s.start(t)
			eventually(t, "prompt running", func() bool { return s.comfy.Prompts() == 1 })
			s.imds.Set(tc.path, tc.body)
			w.wait(t, 3*time.Second)
			if r := s.backend.Job(id).Requeues; len(r) != 1 || r[0] != tc.reason {
				t.Fatalf("requeues %v, want [%s]", r, tc.reason)
			}
			checkLedger(t, s)
			checkProtectionCleared(t, s)
		})
	}
}

func TestSigtermMidJobRequeuesWithShutdown(t *testing.T) {
	parallelFast(t)
	s := newStack(t)
	id := s.backend.AddJob(workflow("slow"))
	s.comfy.Plan = planByTag(map[string]fakes.PromptPlan{"slow": {RunTime: 10 * time.Second}})
	w := s.start(t)
	eventually(t, "prompt running", func() bool { return s.comfy.Prompts() == 1 && s.asg.Protected(instanceID) })
	start := time.Now()
	if code := w.stop(t); code != 0 || time.Since(start) > 2*time.Second {
		t.Fatalf("exit code %d after %v", code, time.Since(start))
	}
	if r := s.backend.Job(id).Requeues; len(r) != 1 || r[0] != "shutdown" {
		t.Fatalf("requeues %v", r)
	}
	if s.comfy.Interrupts() < 1 {
		t.Fatal("running prompt not interrupted")
	}
	checkLedger(t, s)
	checkProtectionCleared(t, s)
}

func TestIdleWorkerMakesNoProtectionCalls(t *testing.T) {
	parallelFast(t)
	s := newStack(t)
	w := s.start(t)
	eventually(t, "many polls", func() bool { return s.backend.Calls("poll") >= 30 })
	w.stop(t)
	if n := len(s.asg.Calls()); n != 0 {
		t.Fatalf("%d Auto Scaling calls from a worker that never had a job", n)
	}
	for _, verb := range []string{"heartbeat", "complete", "fail", "requeue"} {
		if s.backend.Calls(verb) != 0 {
			t.Fatalf("idle worker called %s", verb)
		}
	}
}

func TestRestartAfterANoticeStaysIdleUntilStopped(t *testing.T) {
	parallelFast(t)
	s := newStack(t)
	s.backend.AddJob(workflow("never"))
	// The previous process left on this notice; systemd starts a new one.
	s.imds.SpotNotice()
	w := s.start(t)
	eventually(t, "worker read the metadata", func() bool { return s.imds.Gets() >= 2 }) // instance-id, spot/instance-action
	time.Sleep(150 * time.Millisecond)                                                   // thirty poll intervals
	select {
	case code := <-w.done:
		w.done <- code
		t.Fatalf("worker exited (code %d) on a notice at start: systemd's Restart=always would start it again and again", code)
	default:
	}
	if n := s.backend.Calls("poll") + s.backend.Calls("register"); n != 0 {
		t.Fatalf("worker made %d poll/register calls on an instance with a notice", n)
	}
	if code := w.stop(t); code != 0 {
		t.Fatalf("exit code %d", code)
	}
	if s.backend.Calls("poll") != 0 || len(s.asg.Calls()) != 0 {
		t.Fatalf("polls %d, protection calls %+v", s.backend.Calls("poll"), s.asg.Calls())
	}
	checkLedger(t, s)
}

func TestStopRightAfterTheUploadCompletesInsteadOfRequeueing(t *testing.T) {
	parallelFast(t)
	s := newStack(t)
	cancelWorker := make(chan context.CancelFunc, 1)
	// The first complete meets a 503 and, at that moment, SIGTERM.
	s.backend.Fault = func(verb string, n int) (int, string, bool) {
		if verb == "complete" && n == 1 {
			(<-cancelWorker)()
			return http.StatusServiceUnavailable, "", true
		}
		return 0, "", false
	}
	id := s.backend.AddJob(workflow("done"))
	w := s.start(t)
	cancelWorker <- w.cancel
	if code := w.wait(t, 3*time.Second); code != 0 {
		t.Fatalf("exit code %d", code)
	}
	j := s.backend.Job(id)
	if j.State != fakes.Completed || j.Completions != 1 || len(j.Requeues) != 0 {
		t.Fatalf("job %s completions %d requeues %v: an uploaded job must be completed, not requeued to run again",
			j.State, j.Completions, j.Requeues)
	}
	checkLedger(t, s)
	checkProtectionCleared(t, s)
}

func TestRefusedReportsDoNotLeaveTheJobLeased(t *testing.T) {
	parallelFast(t)
	t.Run("complete refused", func(t *testing.T) {
		s := newStack(t)
		// Refused on every try of the first lease's complete.
		s.backend.Fault = func(verb string, n int) (int, string, bool) {
			return http.StatusForbidden, "", verb == "complete" && n <= runner.RefusedTries
		}
		id := s.backend.AddJob(workflow("x"))
		w := s.start(t)
		eventually(t, "job completed on its second lease", func() bool { return s.backend.Job(id).State == fakes.Completed })
		if j := s.backend.Job(id); j.Attempts != 1 || !strings.Contains(j.FailMessage, "backend refused complete") || j.Leases != 2 {
			t.Fatalf("attempts %d leases %d fail message %q: a refused complete must be failed explicitly", j.Attempts, j.Leases, j.FailMessage)
		}
		w.stop(t)
		checkLedger(t, s)
	})
	t.Run("fail refused", func(t *testing.T) {
		s := newStack(t)
		s.backend.Fault = func(verb string, n int) (int, string, bool) {
			return http.StatusBadRequest, "", verb == "fail" && n <= runner.RefusedTries
		}
		id := s.backend.AddJob(workflow("oom"))
		s.comfy.Plan = planByTag(map[string]fakes.PromptPlan{"oom": {Error: "CUDA out of memory"}})
		w := s.start(t)
		eventually(t, "job failed for good", func() bool { return s.backend.Job(id).State == fakes.Failed })
		if j := s.backend.Job(id); len(j.Requeues) != 1 || j.Requeues[0] != "report_refused" || j.Attempts != 3 {
			t.Fatalf("requeues %v attempts %d: a refused fail must give the job back", j.Requeues, j.Attempts)
		}
		w.stop(t)
		checkLedger(t, s)
	})
}
