package cli_test

import (
	"encoding/json"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/bp/infra/bootcontract"
	"github.com/bp/infra/worker/internal/fakes"
)

// Scenarios run as the built binary at production defaults (binary_test.go).
// Each takes seconds of wall time, so they run in parallel.

// Back-to-back jobs: the next poll follows each outcome at once, and no
// heartbeat follows a job's outcome. The backend here answers a heartbeat for
// a finished lease with 200, as a backend that checks only the token might:
// a worker that sent one would keep beating and never poll again.
func TestBinaryBackToBackJobsPollRightAfterEachOutcome(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	s.backend.LenientHeartbeats = true
	const jobs = 4
	ids := make([]int, jobs)
	for i := range ids {
		ids[i] = s.backend.AddJob(workflow("job"))
	}
	// Each prompt ends within the worker's first look at its history (1 s).
	s.comfy.Plan = planByTag(map[string]fakes.PromptPlan{"job": {RunTime: 900 * time.Millisecond, OutputSize: 4096}})
	p := s.startBinary(t)

	var gaps []time.Duration
	within(t, 40*time.Second, "every job completed and a poll after the last one", func() bool {
		var ok bool
		gaps, ok = outcomeToPollGaps(s.backend.Log())
		return ok && len(gaps) == jobs
	})
	var worst time.Duration
	for i, g := range gaps {
		t.Logf("job %d: complete -> next poll %v", i+1, g)
		worst = max(worst, g)
	}
	t.Logf("worst complete -> poll gap over %d back-to-back jobs: %v (poll interval 3 s, heartbeat 60 s)", jobs, worst)
	if worst > time.Second {
		t.Fatalf("the worker idled %v between a job's outcome and the next poll (want <= 1s)", worst)
	}
	if bad := heartbeatsAfterOutcome(s.backend.Log()); len(bad) > 0 {
		t.Fatalf("heartbeats after the job's outcome: %v", bad)
	}
	for _, id := range ids {
		if j := s.backend.Job(id); j.State != fakes.Completed || j.Leases != 1 || j.Completions != 1 {
			t.Fatalf("job %d: %s leases %d completions %d", id, j.State, j.Leases, j.Completions)
		}
	}
	if rss := processRSSMiB(p.cmd.Process.Pid); rss > 0 {
		t.Logf("worker binary resident memory after %d jobs: %.1f MiB", jobs, rss)
		if rss > 30 {
			t.Fatalf("worker RSS %.1f MiB, over its 30 MB limit", rss)
		}
	}
	if code := p.terminate(t); code != 0 {
		t.Fatalf("exit code %d after SIGTERM", code)
	}
	checkLedger(t, s)
	checkProtectionCleared(t, s)
}

// ComfyUI dies just as a job is leased: the job goes back with no attempt
// used, no other job is leased while ComfyUI is down, and after the bound the
// process exits 3 (the worker unit restarts ComfyUI, systemd the worker) saying why.
func TestBinaryComfyDownRequeuesStopsLeasingAndExitsNonZero(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	first := s.backend.AddJob(workflow("a"))
	second := s.backend.AddJob(workflow("b"))
	var leased atomic.Int32
	s.backend.OnLease = func(int) {
		if leased.Add(1) == 1 {
			s.comfy.Stop() // connection refused from now on
		}
	}
	const bound = 4 * time.Second
	p := s.startBinary(t, "-comfyui-down-timeout="+bound.String())

	within(t, 10*time.Second, "the first job requeued", func() bool { return len(s.backend.Job(first).Requeues) == 1 })
	requeuedAt := time.Now()
	pollsThen := s.backend.Calls("poll")
	code := p.wait(t, bound+10*time.Second)
	t.Logf("exit %d %v after the requeue", code, time.Since(requeuedAt).Round(100*time.Millisecond))
	if code != bootcontract.ExitComfyUIUnavailable {
		t.Fatalf("exit code %d, want %d so that the worker unit restarts ComfyUI and systemd (Restart=always) the worker", code, bootcontract.ExitComfyUIUnavailable)
	}
	j := s.backend.Job(first)
	if j.Requeues[0] != "comfyui_unavailable" || j.Attempts != 0 || j.FailMessage != "" || j.State != fakes.Queued {
		t.Fatalf("first job: requeues %v attempts %d state %s fail %q: want requeued with no attempt used", j.Requeues, j.Attempts, j.State, j.FailMessage)
	}
	if j2 := s.backend.Job(second); j2.Leases != 0 {
		t.Fatalf("second job leased %d times while ComfyUI was down", j2.Leases)
	}
	if n := s.backend.Calls("poll") - pollsThen; n != 0 {
		t.Fatalf("%d polls while ComfyUI was down", n)
	}
	logs := p.logs.String()
	if !logged(logs, "exiting with status 3 so that systemd restarts comfyui-worker.service and comfyui.service") {
		t.Fatalf("no log line saying the exit is for systemd to restart the pair:\n%s", logs)
	}
	if s.backend.Registered(instanceID) {
		t.Fatal("worker did not deregister before exiting")
	}
	checkLedger(t, s)
	checkProtectionCleared(t, s)
}

// ComfyUI restarts while it runs the job's prompt: its history and queue
// forget the prompt. The worker notices from /history and /queue and requeues
// the job (no attempt used) instead of heartbeating until the 1 h timeout.
func TestBinaryComfyRestartMidJobRequeues(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	id := s.backend.AddJob(workflow("x"))
	var submits atomic.Int32
	s.comfy.Plan = func(json.RawMessage) fakes.PromptPlan {
		if submits.Add(1) == 1 {
			return fakes.PromptPlan{RunTime: 10 * time.Minute}
		}
		return fakes.PromptPlan{OutputSize: 64}
	}
	p := s.startBinary(t)
	within(t, 10*time.Second, "the prompt running", func() bool { return s.comfy.Prompt("p-1").Running })
	s.comfy.Restart(time.Second)
	back := time.Now()
	within(t, 20*time.Second, "the job completed on its second lease", func() bool { return s.backend.Job(id).State == fakes.Completed })
	t.Logf("ComfyUI back -> job completed again: %v", time.Since(back).Round(100*time.Millisecond))
	j := s.backend.Job(id)
	if len(j.Requeues) != 1 || j.Requeues[0] != "comfyui_restarted" || j.Attempts != 0 || j.Leases != 2 || j.Completions != 1 {
		t.Fatalf("requeues %v attempts %d leases %d completions %d", j.Requeues, j.Attempts, j.Leases, j.Completions)
	}
	if code := p.terminate(t); code != 0 {
		t.Fatalf("exit code %d", code)
	}
	checkLedger(t, s)
	checkProtectionCleared(t, s)
}

// kill -9 mid-job, then systemd starts the worker again: the orphaned prompt
// (and anything pending behind it) is interrupted and cleared before the
// worker takes work, so the requeued job does not wait behind it.
func TestBinaryKill9OrphanPromptIsInterruptedBeforeNewWork(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	id := s.backend.AddJob(workflow("x"))
	var submits atomic.Int32
	s.comfy.Plan = func(json.RawMessage) fakes.PromptPlan {
		if submits.Add(1) == 1 {
			return fakes.PromptPlan{RunTime: 10 * time.Minute}
		}
		return fakes.PromptPlan{RunTime: 500 * time.Millisecond, OutputSize: 64}
	}
	first := s.startBinary(t)
	within(t, 10*time.Second, "the first run's prompt running, protected", func() bool {
		return s.comfy.Prompt("p-1").Running && s.asg.Protected(instanceID)
	})
	if err := first.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	first.wait(t, 10*time.Second)
	pending := s.comfy.Enqueue(fakes.PromptPlan{RunTime: time.Minute}, "another-client")

	restart := time.Now()
	second := s.startBinary(t)
	within(t, 15*time.Second, "the job completed after the restart", func() bool { return s.backend.Job(id).State == fakes.Completed })
	took := time.Since(restart)
	t.Logf("restart -> job completed: %v (its prompt runs 0.5 s; the orphan would have run 10 min)", took.Round(100*time.Millisecond))
	if orphan := s.comfy.Prompt("p-1"); !orphan.Interrupted {
		t.Fatalf("orphaned prompt not interrupted: %+v", orphan)
	}
	if pp := s.comfy.Prompt(pending); pp.InQueue || pp.InHistory {
		t.Fatalf("pending orphan %s not cleared: %+v", pending, pp)
	}
	if s.comfy.Clears() == 0 {
		t.Fatal("ComfyUI's queue was not cleared")
	}
	j := s.backend.Job(id)
	if len(j.Requeues) != 1 || j.Requeues[0] != "worker_restart" || j.Completions != 1 {
		t.Fatalf("requeues %v completions %d", j.Requeues, j.Completions)
	}
	if code := second.terminate(t); code != 0 {
		t.Fatalf("exit code %d", code)
	}
	checkLedger(t, s)
	checkProtectionCleared(t, s)
}

// A rebalance recommendation mid-job: no new job is taken, the running job
// finishes and is completed (not requeued), then the worker stands down
// (protection off, deregistered) and stays idle, making no calls, until
// SIGTERM.
func TestBinaryRebalanceFinishesTheJobThenStandsDown(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	running := s.backend.AddJob(workflow("long"))
	waiting := s.backend.AddJob(workflow("next"))
	// The prompt runs until the worker has seen the recommendation (within
	// one 5 s interruption interval), so the job is mid-run when it does.
	seen := make(chan struct{})
	s.comfy.Plan = planByTag(map[string]fakes.PromptPlan{"long": {RunTime: 500 * time.Millisecond, Until: seen, OutputSize: 64}})
	p := s.startBinary(t)
	within(t, 10*time.Second, "the prompt running", func() bool { return s.comfy.Prompt("p-1").Running })
	s.imds.Set("events/recommendations/rebalance", `{"noticeTime":"2030-01-01T00:00:00Z"}`)
	within(t, 10*time.Second, "the recommendation seen", func() bool {
		return logged(p.logs.String(), "rebalance recommendation: taking no new jobs")
	})
	close(seen)
	within(t, 20*time.Second, "the running job reported", func() bool {
		j := s.backend.Job(running)
		return j.State == fakes.Completed || len(j.Requeues) > 0
	})
	if j := s.backend.Job(running); len(j.Requeues) != 0 || j.Completions != 1 {
		t.Fatalf("running job requeues %v completions %d: a rebalance recommendation must let it finish", j.Requeues, j.Completions)
	}
	within(t, 10*time.Second, "stood down", func() bool {
		return !s.backend.Registered(instanceID) && !s.asg.Protected(instanceID)
	})
	calls := s.backend.Calls("")
	time.Sleep(3500 * time.Millisecond) // longer than the 3 s poll interval
	if _, gone := p.exited(); gone {
		t.Fatal("the worker exited after standing down: systemd would start it again")
	}
	if n := s.backend.Calls("") - calls; n != 0 {
		t.Fatalf("%d backend calls after standing down", n)
	}
	if w := s.backend.Job(waiting); w.Leases != 0 {
		t.Fatalf("a new job was leased after the recommendation (%d leases)", w.Leases)
	}
	if code := p.terminate(t); code != 0 {
		t.Fatalf("exit code %d", code)
	}
	if !strings.Contains(p.logs.String(), "idle until stopped") {
		t.Fatal("no log line saying the worker idles after standing down")
	}
	checkLedger(t, s)
	checkProtectionCleared(t, s)
}
