package runner

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/bp/infra/worker/internal/backend"
	"github.com/bp/infra/worker/internal/comfyui"
	"github.com/bp/infra/worker/internal/grace"
	"github.com/bp/infra/worker/internal/lease"
	"github.com/bp/infra/worker/internal/redact"
)

// result of running one job in ComfyUI.
type result struct {
	promptID string
	output   backend.Output
}

// runJob holds one lease from poll to complete/fail/requeue, or until the
// lease is lost or the worker stops (then shutdown requeues it).
func (r *Runner) runJob(ctx context.Context, job *backend.Job) {
	log := r.Log.With("dispatch_id", job.DispatchID.String())
	log.Info("job leased")
	r.mu.Lock()
	r.active, r.promptID = job, ""
	r.mu.Unlock()
	r.setRuntimeJob(job)

	// Protect before doing work: scale-in must not kill a running job.
	pctx, pcancel := context.WithTimeout(ctx, r.Settings.ProtectionTimeout)
	if err := r.Protection.Set(pctx, true); err != nil && ctx.Err() == nil {
		log.Error("could not turn scale-in protection on; running the job unprotected", "error", err.Error())
	}
	pcancel()
	r.Metrics.Set(ctx, true)

	jobCtx, cancelJob := context.WithCancelCause(ctx)
	defer cancelJob(nil)
	keeper := &lease.Keeper{Interval: r.Settings.HeartbeatInterval, TTL: r.Settings.LeaseTTL, StopGrace: r.stopGrace(), Log: log,
		Send: func(hctx context.Context) error {
			return r.Registrar.WithToken(hctx, func(tok string) error {
				return r.Backend.Heartbeat(hctx, tok, job.Lease(r.Settings.WorkerID))
			})
		}}
	beatCtx, stopBeats := context.WithCancel(jobCtx)
	var hb sync.WaitGroup
	hb.Go(func() {
		if err := keeper.Run(beatCtx); err != nil {
			cancelJob(err)
		}
	})

	res, err := r.execute(jobCtx, job)
	// The work is over: stop heartbeating before the outcome is reported. A
	// beat after it would be for a finished lease, and waiting for the keeper's
	// next tick would idle the worker for up to a heartbeat interval.
	stopBeats()
	hb.Wait()

	switch {
	case errors.Is(context.Cause(jobCtx), backend.ErrLeaseLost):
		log.Warn("lease lost: abandoning the job without reporting it", "error", context.Cause(jobCtx).Error())
		r.interruptComfy()
		r.finishJob()
		return
	case err != nil && ctx.Err() != nil:
		// Stopped mid-job: the job stays active so shutdown interrupts and requeues it.
		return
	case errors.Is(err, errTimeout):
		r.interruptComfy()
	}
	if !r.report(ctx, log, job, r.outcomeOf(res, err)) {
		return // stopping and the report did not land in time: shutdown requeues
	}
	r.finishJob()
}

// outcomeOf decides what to tell the backend: complete, fail (the job's own
// failure, an attempt used), or requeue (ComfyUI's failure, no attempt used).
func (r *Runner) outcomeOf(res result, err error) outcome {
	if err == nil {
		return outcome{verb: verbComplete, res: res}
	}
	if reason := r.comfyFault(err); reason != "" {
		return outcome{verb: verbRequeue, reason: reason, message: failMessage(err)}
	}
	return outcome{verb: verbFail, message: failMessage(err)}
}

// stopGraceMax caps how long a call on the wire may go on after a stop.
const stopGraceMax = 5 * time.Second

// stopGrace is how long a call already sent may go on after a stop (a
// quarter of the shutdown deadline, at most 5 s). Shutdown's deadline counts
// from the stop, so the grace is part of the notice-to-exit budget.
func (r *Runner) stopGrace() time.Duration {
	return min(stopGraceMax, r.Settings.ShutdownDeadline/4)
}

// reportContext outlives a stop of ctx by the stop grace: the output is
// uploaded (or the failure known), and a requeue instead would run the job
// again. Without a stop it ends after a lease period: by then the backend has
// taken the job back.
func (r *Runner) reportContext(ctx context.Context) (context.Context, context.CancelFunc) {
	rctx, cancel := grace.AfterStop(ctx, r.stopGrace())
	rctx, cancelTimeout := context.WithTimeout(rctx, r.Settings.LeaseTTL)
	return rctx, func() {
		cancelTimeout()
		cancel()
	}
}

// finishJob forgets the job; protection stays on until a poll finds no work.
func (r *Runner) finishJob() {
	r.mu.Lock()
	r.active, r.promptID = nil, ""
	r.mu.Unlock()
	r.setRuntimeJob(nil)
}

// execute runs the job in ComfyUI and uploads the output.
func (r *Runner) execute(ctx context.Context, job *backend.Job) (result, error) {
	ctx, cancel := context.WithTimeoutCause(ctx, r.Settings.JobTimeout,
		fmt.Errorf("%w after %s", errTimeout, r.Settings.JobTimeout))
	defer cancel()
	res, err := r.executeSteps(ctx, job)
	if err != nil && errors.Is(context.Cause(ctx), errTimeout) {
		return res, context.Cause(ctx)
	}
	return res, err
}

func (r *Runner) executeSteps(ctx context.Context, job *backend.Job) (result, error) {
	p, err := loadPayload(ctx, r.Transfer, job)
	if err != nil {
		return result{}, err
	}
	if err := r.uploadAssets(ctx, p.Assets); err != nil {
		return result{}, fmt.Errorf("upload input assets: %w", err)
	}
	promptID, err := r.Comfy.Submit(ctx, p.workflow(), r.Settings.WorkerID)
	if err != nil {
		return result{}, fmt.Errorf("submit prompt: %w", err)
	}
	r.mu.Lock()
	r.promptID = promptID
	r.mu.Unlock()
	outs, err := r.Comfy.WaitDone(ctx, promptID, r.Settings.HistoryInterval, r.Settings.ComfyLostAfter)
	if err != nil {
		return result{promptID: promptID}, err
	}
	file, err := outs.Pick(p.outputNode())
	if err != nil {
		return result{promptID: promptID}, err
	}
	out, err := r.uploadOutput(ctx, job, file)
	if err != nil {
		return result{promptID: promptID}, fmt.Errorf("upload output %s: %w", file.Filename, err)
	}
	return result{promptID: promptID, output: out}, nil
}

// interruptComfy stops the running prompt (best effort, a few seconds).
func (r *Runner) interruptComfy() {
	r.mu.Lock()
	id := r.promptID
	r.mu.Unlock()
	// With no prompt id yet (submit in flight) interrupt anyway: this worker
	// runs one prompt at a time, so whatever ComfyUI runs is this job's.
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := r.Comfy.Interrupt(ctx, id); err != nil {
		r.Log.Warn("could not interrupt ComfyUI prompt", "prompt_id", id, "error", err.Error())
		return
	}
	r.Log.Info("interrupted ComfyUI prompt", "prompt_id", id)
}

// failMessage is the error_message the user sees: the job error's own text,
// trimmed, with the query strings (presigned credentials) of URLs removed.
func failMessage(err error) string {
	var je *comfyui.JobError
	msg := err.Error()
	if errors.As(err, &je) {
		msg = je.Msg
	}
	msg = strings.TrimSpace(redact.Text(msg))
	if len(msg) > 1000 {
		msg = msg[:1000] + "..."
	}
	return msg
}
