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
	"github.com/bp/infra/worker/internal/lease"
)

// result of running one job in ComfyUI.
type result struct {
	promptID string
	output   backend.Output
}

// runJob holds one lease from poll to complete/fail, or until the lease is
// lost or the worker stops (then shutdown requeues it).
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
	keeper := &lease.Keeper{Interval: r.Settings.HeartbeatInterval, TTL: r.Settings.LeaseTTL, Log: log,
		Send: func(hctx context.Context) error {
			return r.Registrar.WithToken(hctx, func(tok string) error {
				return r.Backend.Heartbeat(hctx, tok, job.Lease(r.Settings.WorkerID))
			})
		}}
	var hb sync.WaitGroup
	hb.Go(func() {
		if err := keeper.Run(jobCtx); err != nil {
			cancelJob(err)
		}
	})
	defer hb.Wait()

	res, err := r.execute(jobCtx, job)
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
	// The report outlives a stop by a short grace: the output is uploaded (or
	// the failure known), and a requeue instead would run the job again.
	rctx, rcancel := r.reportContext(jobCtx)
	defer rcancel()
	lease := job.Lease(r.Settings.WorkerID)
	if err == nil {
		err = r.report(rctx, log, "complete", func(tok string) error {
			return r.Backend.Complete(rctx, tok, lease, res.promptID, res.output)
		})
		if err == nil {
			log.Info("job completed", "size", res.output.Size, "mime_type", res.output.MimeType)
		} else if rctx.Err() == nil {
			// Refused for good (e.g. 400/403): fail it so it is not left leased.
			err = r.report(rctx, log, "fail", func(tok string) error {
				return r.Backend.Fail(rctx, tok, lease, failMessage(fmt.Errorf("backend refused complete: %w", err)))
			})
			if err != nil && rctx.Err() == nil {
				err = r.giveBack(rctx, log, lease)
			}
		}
	} else {
		msg := failMessage(err)
		log.Warn("job failed", "error", msg)
		err = r.report(rctx, log, "fail", func(tok string) error {
			return r.Backend.Fail(rctx, tok, lease, msg)
		})
		if err != nil && rctx.Err() == nil {
			err = r.giveBack(rctx, log, lease)
		}
	}
	if err != nil && rctx.Err() != nil && !errors.Is(context.Cause(rctx), backend.ErrLeaseLost) {
		return // stopping and the report did not land in time: shutdown requeues (refused if it did land)
	}
	r.finishJob()
}

// reportGraceMax caps how long a report may go on after a stop.
const reportGraceMax = 5 * time.Second

// reportContext lives as long as the job, except that a stop leaves it a
// grace (a quarter of the shutdown deadline, at most 5 s) and a lost lease
// ends it at once. Shutdown's deadline counts from the stop, so the grace is
// part of the notice-to-exit budget.
func (r *Runner) reportContext(jobCtx context.Context) (context.Context, context.CancelFunc) {
	grace := min(reportGraceMax, r.Settings.ShutdownDeadline/4)
	ctx, cancel := context.WithCancelCause(context.WithoutCancel(jobCtx))
	var timer *time.Timer
	var mu sync.Mutex
	stopWatch := context.AfterFunc(jobCtx, func() {
		if cause := context.Cause(jobCtx); errors.Is(cause, backend.ErrLeaseLost) {
			cancel(cause)
			return
		}
		mu.Lock()
		timer = time.AfterFunc(grace, func() { cancel(errors.New("stopping: report grace over")) })
		mu.Unlock()
	})
	return ctx, func() {
		stopWatch()
		mu.Lock()
		if timer != nil {
			timer.Stop()
		}
		mu.Unlock()
		cancel(nil)
	}
}

// giveBack requeues a job whose report the backend refused for good, so it
// does not stay leased until the lease expires.
func (r *Runner) giveBack(ctx context.Context, log interface {
	Error(string, ...any)
}, lease backend.Lease) error {
	return r.report(ctx, log, "requeue", func(tok string) error {
		return r.Backend.Requeue(ctx, tok, lease, ReasonReportRefused)
	})
}

// ReasonReportRefused is the requeue reason after complete/fail were refused.
const ReasonReportRefused = "report_refused"

// report sends complete or fail; a lost lease is logged, not retried.
func (r *Runner) report(ctx context.Context, log interface {
	Error(string, ...any)
}, verb string, call func(tok string) error) error {
	err := r.Registrar.WithToken(ctx, call)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, backend.ErrLeaseLost):
		log.Error("backend refused "+verb+": lease already lost", "error", err.Error())
		return nil
	default:
		log.Error(verb+" failed", "error", err.Error())
		return err
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
	outs, err := r.Comfy.WaitDone(ctx, promptID, r.Settings.HistoryInterval)
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

func failMessage(err error) string {
	var je *comfyui.JobError
	msg := err.Error()
	if errors.As(err, &je) {
		msg = je.Msg
	}
	msg = strings.TrimSpace(msg)
	if len(msg) > 1000 {
		msg = msg[:1000] + "..."
	}
	return msg
}
