package cli_test

import (
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bp/infra/internal/coldstart"
	"github.com/bp/infra/worker/internal/fakes"
)

// TestBinaryColdStartLeasesSoonAfterComfyUI measures the worker's part of a
// cold start: from ComfyUI's /system_stats first answering to the waiting
// job being leased and handed to ComfyUI, with the built binary at
// production defaults. The scale-from-zero model (internal/coldstart) uses
// its bound as the step's figure; this test holds the binary to it.
func TestBinaryColdStartLeasesSoonAfterComfyUI(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	s.comfy.SetReady(false) // ComfyUI still importing torch when the worker starts
	s.comfy.Plan = planByTag(map[string]fakes.PromptPlan{"first": {RunTime: 200 * time.Millisecond, OutputSize: 1024}})
	s.backend.AddJob(workflow("first"))
	var leasedAt atomic.Int64
	s.backend.OnLease = func(int) { leasedAt.CompareAndSwap(0, time.Now().UnixNano()) }
	p := s.startBinary(t)

	within(t, 20*time.Second, "the worker waits for ComfyUI", func() bool {
		return strings.Contains(p.logs.String(), "waiting for ComfyUI /system_stats")
	})
	time.Sleep(300 * time.Millisecond) // ComfyUI becomes ready at an arbitrary point of a probe interval
	readyAt := time.Now()
	s.comfy.SetReady(true)
	within(t, 20*time.Second, "the job leased", func() bool { return leasedAt.Load() != 0 })
	within(t, 20*time.Second, "the job's prompt submitted to ComfyUI", func() bool { return s.comfy.Prompts() >= 1 })
	submittedAt := time.Now()

	leased := time.Unix(0, leasedAt.Load()).Sub(readyAt)
	step, _ := coldstart.StepByID(coldstart.DefaultParams().Steps(), "worker")
	bound := time.Duration(step.After.Seconds * float64(time.Second))
	t.Logf("ComfyUI ready -> job leased %v, -> prompt submitted <= %v (model figure %v)", leased.Round(time.Millisecond),
		submittedAt.Sub(readyAt).Round(time.Millisecond), bound)
	if leased > bound {
		t.Fatalf("the worker leased the job %v after ComfyUI became ready, over the model's %v", leased, bound)
	}
	if code := p.terminate(t); code != 0 {
		t.Fatalf("exit code %d after SIGTERM", code)
	}
	checkLedger(t, s)
}
