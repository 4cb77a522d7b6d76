package runner

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/bp/infra/bootcontract"
	"github.com/bp/infra/worker/internal/comfyui"
	"github.com/bp/infra/worker/internal/retry"
)

// Requeue reasons for jobs that ComfyUI, not the job, could not run. The
// backend takes any string as the reason.
const (
	// ReasonComfyUnavailable: ComfyUI did not answer while the job needed it.
	ReasonComfyUnavailable = "comfyui_unavailable"
	// ReasonComfyRestarted: ComfyUI restarted mid-job and forgot the prompt.
	ReasonComfyRestarted = "comfyui_restarted"
)

// ErrComfyDown: ComfyUI did not answer for Settings.ComfyDownTimeout.
var ErrComfyDown = errors.New("ComfyUI unreachable")

func (r *Runner) waitComfy(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, r.Settings.ComfyReadyTimeout)
	defer cancel()
	logged := false
	err := r.Comfy.WaitReady(ctx, time.Second, func(err error) {
		if !logged {
			r.Log.Info("waiting for ComfyUI /system_stats", "error", err.Error())
			logged = true
		}
	})
	if err != nil {
		return fmt.Errorf("%w: ComfyUI at %s never became ready: %w", ErrComfyDown, r.Comfy.BaseURL, err)
	}
	r.Log.Info("ComfyUI is ready", "url", r.Comfy.BaseURL)
	return nil
}

// awaitComfy returns at once when ComfyUI answers /system_stats (a local
// call; no backend call). Otherwise no job may be leased: it clears
// protection, probes every ComfyProbeInterval and returns when ComfyUI
// answers again, or ErrComfyDown after ComfyDownTimeout so that the process
// exits bootcontract.ExitComfyUIUnavailable and systemd restarts the pair.
func (r *Runner) awaitComfy(ctx context.Context) error {
	err := r.Comfy.Ping(ctx)
	if err == nil || ctx.Err() != nil {
		return ctx.Err()
	}
	since := time.Now()
	r.Log.Error("ComfyUI does not answer: no jobs are leased until it does",
		"error", err.Error(), "exit_after", r.Settings.ComfyDownTimeout.String())
	r.becomeIdle(ctx)
	for {
		if serr := retry.Sleep(ctx, r.Settings.ComfyProbeInterval); serr != nil {
			return serr
		}
		if err = r.Comfy.Ping(ctx); err == nil {
			r.Log.Info("ComfyUI answers again: polling resumes", "down_for", time.Since(since).Round(time.Millisecond).String())
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if down := time.Since(since); down >= r.Settings.ComfyDownTimeout {
			r.Log.Error(fmt.Sprintf("ComfyUI has not answered for %s: exiting with status %d so that systemd restarts %s and %s with it",
				down.Round(time.Second), bootcontract.ExitComfyUIUnavailable, bootcontract.WorkerUnit, bootcontract.ComfyUIUnit), "error", err.Error())
			return fmt.Errorf("%w for %s: %w", ErrComfyDown, down.Round(time.Second), err)
		}
	}
}

// orphanStopTimeout bounds the wait for an interrupted orphan prompt to stop.
const orphanStopTimeout = 30 * time.Second

// clearOrphans empties ComfyUI's queue before the first job. This worker is
// ComfyUI's only client and runs one prompt at a time, so whatever ComfyUI
// runs or has pending at start was left by a previous run of the worker (a
// SIGKILL or a crash): its job is already requeued, and a new job would wait
// behind it.
func (r *Runner) clearOrphans(ctx context.Context) {
	qctx, cancel := context.WithTimeout(ctx, orphanStopTimeout)
	defer cancel()
	q, err := r.Comfy.Queue(qctx)
	if err != nil {
		r.Log.Warn("could not read ComfyUI's queue at start", "error", err.Error())
		return
	}
	if q.Empty() {
		return
	}
	r.Log.Warn("ComfyUI still has prompts of a previous run: interrupting them before taking work",
		"running", q.Running, "pending", q.Pending)
	for {
		if err := r.Comfy.ClearQueue(qctx); err != nil {
			r.Log.Warn("could not clear ComfyUI's queue", "error", err.Error())
			return
		}
		if serr := retry.Sleep(qctx, 100*time.Millisecond); serr != nil {
			break
		}
		if q, err = r.Comfy.Queue(qctx); err == nil && q.Empty() {
			r.Log.Info("ComfyUI's queue is empty")
			return
		}
	}
	if ctx.Err() == nil {
		r.Log.Error("ComfyUI still runs a prompt of a previous run; the next job waits behind it",
			"running", q.Running, "waited", orphanStopTimeout.String())
	}
}

// comfyFault names the requeue reason when err is ComfyUI's failure rather
// than the job's (the job then goes back with no attempt used), or "".
func (r *Runner) comfyFault(err error) string {
	var je *comfyui.JobError
	switch {
	case errors.Is(err, comfyui.ErrPromptLost):
		return ReasonComfyRestarted
	case errors.As(err, &je), errors.Is(err, errTimeout):
		return ""
	case errors.Is(err, comfyui.ErrUnreachable):
		return ReasonComfyUnavailable
	}
	// Any other failure (an HTTP 5xx from ComfyUI, an asset or output
	// transfer): ComfyUI's only if it stopped answering.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if perr := r.Comfy.Ping(ctx); perr != nil {
		return ReasonComfyUnavailable
	}
	return ""
}
