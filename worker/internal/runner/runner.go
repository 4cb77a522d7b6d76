// Package runner is the worker's main loop and state machine:
//
//	starting -> idle (polling) -> busy (job leased, protected, heartbeating)
//	         -> idle ... ; any state -> stopping (notice or SIGTERM):
//	interrupt prompt, requeue job, clear protection, deregister, exit.
package runner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/bp/infra/worker/internal/backend"
	"github.com/bp/infra/worker/internal/comfyui"
	"github.com/bp/infra/worker/internal/interruption"
	"github.com/bp/infra/worker/internal/metrics"
	"github.com/bp/infra/worker/internal/protection"
	"github.com/bp/infra/worker/internal/registration"
	"github.com/bp/infra/worker/internal/retry"
	"github.com/bp/infra/worker/internal/state"
)

// Watcher reports interruption notices.
type Watcher interface {
	// Watch blocks until the first notice (or ctx ends).
	Watch(ctx context.Context) (interruption.Notice, error)
	// CheckOnce reads the notices once, now.
	CheckOnce(ctx context.Context) (interruption.Notice, bool)
}

// Settings are the runner's timings and identity.
type Settings struct {
	WorkerID          string
	Capabilities      []string
	PollInterval      time.Duration
	HeartbeatInterval time.Duration
	LeaseTTL          time.Duration
	JobTimeout        time.Duration
	ShutdownDeadline  time.Duration
	ComfyReadyTimeout time.Duration
	HistoryInterval   time.Duration
	// ErrorBackoff paces polls after a refused (non-transient) poll.
	ErrorBackoff retry.Policy
	// TransferRetry paces asset downloads and output uploads.
	TransferRetry retry.Policy
	// ProtectionTimeout bounds turning protection on before a job.
	ProtectionTimeout time.Duration
}

// Runner owns one worker's life.
type Runner struct {
	Settings   Settings
	Backend    *backend.Client
	Registrar  *registration.Registrar
	Comfy      *comfyui.Client
	Protection *protection.Guard
	Watcher    Watcher
	Metrics    *metrics.Busy // nil when disabled
	Runtime    state.RuntimeStore
	Transfer   *http.Client // presigned asset and output URLs
	Log        *slog.Logger

	mu       sync.Mutex
	active   *backend.Job
	promptID string
	rt       state.Runtime
	// stoppedAt is when the stop (notice, SIGTERM) came; shutdown's deadline
	// counts from it, so a report's grace is part of the budget.
	stoppedAt time.Time
}

// stopNotice is the cancel cause set by the interruption watcher.
type stopNotice struct{ n interruption.Notice }

func (s stopNotice) Error() string { return "interruption notice: " + s.n.Reason }

// Run works until ctx ends (SIGTERM) or a notice arrives, then shuts down
// within ShutdownDeadline. It always clears protection before returning.
func (r *Runner) Run(ctx context.Context) (err error) {
	// systemd restarts the worker after it left on a notice; the notice is
	// still there, and the restarted worker must not lease work again.
	cctx, ccancel := context.WithTimeout(ctx, startCheckTimeout)
	n, noticed := r.Watcher.CheckOnce(cctx)
	ccancel()
	if noticed {
		return r.standDown(ctx, n)
	}

	workCtx, stop := context.WithCancelCause(ctx)
	context.AfterFunc(workCtx, func() {
		r.mu.Lock()
		r.stoppedAt = time.Now()
		r.mu.Unlock()
	})
	var wg sync.WaitGroup
	wg.Go(func() {
		n, werr := r.Watcher.Watch(workCtx)
		if werr == nil {
			r.Log.Warn("interruption notice: stopping", "reason", n.Reason, "detail", n.Detail)
			stop(stopNotice{n})
		}
	})
	if r.Metrics != nil {
		wg.Go(func() { r.Metrics.Run(workCtx) })
	}
	defer func() {
		reason := stopReason(workCtx)
		stop(nil)
		wg.Wait()
		err = errors.Join(err, r.shutdown(reason))
	}()

	r.recoverFromCrash(workCtx)
	if err := r.waitComfy(workCtx); err != nil {
		if workCtx.Err() != nil {
			return nil
		}
		return err
	}
	r.Metrics.Set(workCtx, false)
	r.loop(workCtx)
	return nil
}

// startCheckTimeout bounds the interruption check before the first poll.
const startCheckTimeout = 5 * time.Second

// standDown is Run on an instance that already has an interruption notice:
// give back what a crashed run held, clear protection, deregister, and then
// stay idle (no poll, no registration) until stopped, so a restart by
// systemd cannot lease a job on an instance that is going away.
func (r *Runner) standDown(ctx context.Context, n interruption.Notice) error {
	r.Log.Warn("interruption notice present at start: not polling; idle until stopped",
		"reason", n.Reason, "detail", n.Detail)
	r.recoverFromCrash(ctx)
	err := r.shutdown(n.Reason)
	<-ctx.Done()
	r.Log.Info("stopped while standing down", "reason", n.Reason)
	return err
}

func stopReason(work context.Context) string {
	var sn stopNotice
	if errors.As(context.Cause(work), &sn) {
		return sn.n.Reason
	}
	return interruption.ReasonShutdown
}

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
		return fmt.Errorf("ComfyUI at %s never became ready: %w", r.Comfy.BaseURL, err)
	}
	r.Log.Info("ComfyUI is ready", "url", r.Comfy.BaseURL)
	return nil
}

// loop polls while idle and runs each leased job.
func (r *Runner) loop(ctx context.Context) {
	errorStreak := 0
	for ctx.Err() == nil {
		job, err := r.poll(ctx)
		if ctx.Err() != nil {
			if job != nil {
				// The reply leased a job just as the stop came: hold it so
				// shutdown requeues it instead of leaving it leased for 900 s.
				r.holdLeased(job)
			}
			return
		}
		if err != nil {
			errorStreak++
			wait := r.Settings.ErrorBackoff.Delay(errorStreak)
			r.Log.Error("poll failed", "error", err.Error(), "retry_in", wait.String())
			_ = retry.Sleep(ctx, wait)
			continue
		}
		errorStreak = 0
		if job == nil {
			r.becomeIdle(ctx)
			_ = retry.Sleep(ctx, r.Settings.PollInterval)
			continue
		}
		r.runJob(ctx, job)
	}
}

func (r *Runner) poll(ctx context.Context) (*backend.Job, error) {
	var job *backend.Job
	err := r.Registrar.WithToken(ctx, func(tok string) error {
		var err error
		job, err = r.Backend.Poll(ctx, tok, backend.PollRequest{
			WorkerID: r.Settings.WorkerID, CurrentLoad: 0, MaxConcurrency: 1, Capabilities: r.Settings.Capabilities,
		})
		return err
	})
	return job, err
}

// becomeIdle clears protection after a poll found no work. Guard makes this a
// no-op unless protection is on, so an idle worker calls Auto Scaling never.
func (r *Runner) becomeIdle(ctx context.Context) {
	if err := r.Protection.Set(ctx, false); err != nil && ctx.Err() == nil {
		r.Log.Error("could not clear scale-in protection", "error", err.Error())
	}
	r.Metrics.Set(ctx, false)
}

// recoverFromCrash requeues a job a crashed run still held and makes the next
// protection change a real call if protection may still be on.
func (r *Runner) recoverFromCrash(ctx context.Context) {
	rt, err := r.Runtime.Load()
	if err != nil {
		r.Log.Error("ignoring unreadable runtime file", "error", err.Error())
		return
	}
	if rt.Protected {
		r.Protection.Forget()
		r.mu.Lock()
		r.rt.Protected = true
		r.mu.Unlock()
	}
	if !rt.HasJob() {
		return
	}
	l := backend.Lease{DispatchID: backend.DispatchID(rt.DispatchID), LeaseToken: rt.LeaseToken, WorkerID: r.Settings.WorkerID}
	r.Log.Warn("found a job lease from a previous run; requeueing it", "dispatch_id", l.DispatchID.String())
	rctx, cancel := context.WithTimeout(ctx, r.Settings.ShutdownDeadline)
	defer cancel()
	err = r.Registrar.WithToken(rctx, func(tok string) error {
		return r.Backend.Requeue(rctx, tok, l, "worker_restart")
	})
	switch {
	case err == nil, errors.Is(err, backend.ErrLeaseLost):
		r.setRuntimeJob(nil) // requeued, or the backend already took it back
	default:
		r.Log.Error("could not requeue the previous run's job; the backend will take it back when the lease expires", "error", err.Error())
		r.setRuntimeJob(nil)
	}
}

// holdLeased makes job the active one without running it (shutdown requeues it).
func (r *Runner) holdLeased(job *backend.Job) {
	r.Log.Warn("job leased as the worker stops; it will be requeued", "dispatch_id", job.DispatchID.String())
	r.mu.Lock()
	r.active, r.promptID = job, ""
	r.mu.Unlock()
	r.setRuntimeJob(job)
}

// setRuntimeJob records the held lease (nil: none) in the runtime file.
func (r *Runner) setRuntimeJob(job *backend.Job) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if job == nil {
		r.rt.DispatchID, r.rt.LeaseToken = nil, ""
	} else {
		r.rt.DispatchID, r.rt.LeaseToken = json.RawMessage(job.DispatchID), job.LeaseToken
	}
	r.saveRuntimeLocked()
}

// ProtectionMayChange is the Guard's BeforeCall hook: before a call that may
// turn protection on, the runtime file says it may be on, so a crash or a
// timed-out call leaves the next start a reason to clear it.
func (r *Runner) ProtectionMayChange(want bool) {
	if !want {
		return // it stays "may be on" until the off call succeeds
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.rt.Protected {
		return
	}
	r.rt.Protected = true
	r.saveRuntimeLocked()
}

// ProtectionChanged is the Guard's OnChange hook.
func (r *Runner) ProtectionChanged(protected bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.rt.Protected = protected
	r.saveRuntimeLocked()
}

func (r *Runner) saveRuntimeLocked() {
	if err := r.Runtime.Save(r.rt); err != nil {
		r.Log.Error("could not write runtime file", "error", err.Error())
	}
}
