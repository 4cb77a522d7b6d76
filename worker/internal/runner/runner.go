// Package runner is the worker's main loop and state machine:
//
//	starting (requeue a crashed run's lease, wait for ComfyUI, clear its queue)
//	-> idle (ComfyUI probed, then poll) -> busy (job leased, protected,
//	heartbeating) -> outcome reported -> idle ...
//	idle, ComfyUI down -> no polls until it answers; exit 3 after a bound
//	rebalance recommendation -> draining: no polls, the job finishes, then
//	stand down (protection off, deregister) and idle until SIGTERM
//	interruption notice, scale-in, SIGTERM -> stopping: interrupt the prompt,
//	requeue the job, clear protection, deregister, exit.
package runner

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/bp/infra/worker/internal/backend"
	"github.com/bp/infra/worker/internal/comfyui"
	"github.com/bp/infra/worker/internal/grace"
	"github.com/bp/infra/worker/internal/interruption"
	"github.com/bp/infra/worker/internal/metrics"
	"github.com/bp/infra/worker/internal/protection"
	"github.com/bp/infra/worker/internal/registration"
	"github.com/bp/infra/worker/internal/retry"
	"github.com/bp/infra/worker/internal/state"
)

// Watcher reports interruption notices.
type Watcher interface {
	// Watch blocks until the first notice accept takes (nil: any), or ctx ends.
	Watch(ctx context.Context, accept func(interruption.Notice) bool) (interruption.Notice, error)
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
	// ComfyDownTimeout is how long ComfyUI may stay unreachable while the
	// worker waits for it before Run gives up with ErrComfyDown (exit 3, and
	// systemd restarts the worker and ComfyUI).
	ComfyDownTimeout time.Duration
	// ComfyProbeInterval paces the probes while ComfyUI is down (1 s).
	ComfyProbeInterval time.Duration
	// ComfyLostAfter is how long ComfyUI may not answer while it runs a
	// prompt before the prompt counts as lost and the job is requeued.
	ComfyLostAfter time.Duration
	// RebalanceDrain is how long a running job may go on after a rebalance
	// recommendation; a job still running then is requeued ("rebalance").
	RebalanceDrain time.Duration
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

// drainNotice is the cause of the take context after a rebalance recommendation.
type drainNotice struct{ n interruption.Notice }

func (d drainNotice) Error() string { return "rebalance recommendation: draining" }

// Run works until ctx ends (SIGTERM) or a notice arrives, then shuts down
// within ShutdownDeadline. It always clears protection before returning. After
// a rebalance recommendation it takes no new work, lets the running job
// finish, stands down and then stays idle until ctx ends. It returns an error
// (the process exits non-zero) only when the worker cannot work, e.g. ComfyUI did not
// answer for ComfyDownTimeout.
func (r *Runner) Run(ctx context.Context) (err error) {
	// systemd restarts the worker after it left on a notice; the notice is
	// still there, and the restarted worker must not lease work again.
	cctx, ccancel := context.WithTimeout(ctx, startCheckTimeout)
	n, noticed := r.Watcher.CheckOnce(cctx)
	ccancel()
	if noticed {
		return r.standDown(ctx, n)
	}

	// workCtx ends on a stop (notice, SIGTERM): the job is abandoned and
	// requeued. takeCtx ends on that or on a rebalance recommendation: no new
	// job is taken, but the running one goes on.
	workCtx, stop := context.WithCancelCause(ctx)
	takeCtx, drain := context.WithCancelCause(workCtx)
	context.AfterFunc(workCtx, func() {
		r.mu.Lock()
		r.stoppedAt = time.Now()
		r.mu.Unlock()
	})
	var wg sync.WaitGroup
	wg.Go(func() { r.watchNotices(workCtx, stop, drain) })
	if r.Metrics != nil {
		wg.Go(func() { r.Metrics.Run(workCtx) })
	}
	exitReason := ""
	defer func() {
		reason := stopReason(workCtx, takeCtx)
		if exitReason != "" {
			reason = exitReason
		}
		drained := ctx.Err() == nil && err == nil && reason == interruption.ReasonRebalance
		stop(nil)
		wg.Wait()
		err = errors.Join(err, r.shutdown(reason))
		if drained {
			// Exiting would only make systemd start a worker that finds the
			// recommendation and stands down again; stay as we are.
			r.Log.Info("stood down after a rebalance recommendation: idle until stopped")
			<-ctx.Done()
		}
	}()

	r.recoverFromCrash(workCtx)
	if err := r.waitComfy(workCtx); err != nil {
		if workCtx.Err() != nil {
			return nil
		}
		return err
	}
	r.clearOrphans(workCtx)
	r.Metrics.Set(workCtx, false)
	if err := r.loop(workCtx, takeCtx); err != nil {
		exitReason = ReasonComfyUnavailable
		return err
	}
	return nil
}

// watchNotices turns IMDS notices into a drain (rebalance recommendation) or
// a stop (interruption notice, scale-in; also a job that outlives the drain).
func (r *Runner) watchNotices(ctx context.Context, stop, drain context.CancelCauseFunc) {
	n, err := r.Watcher.Watch(ctx, nil)
	if err != nil {
		return
	}
	if n.Reason == interruption.ReasonRebalance {
		r.Log.Warn("rebalance recommendation: taking no new jobs; the running job may finish, then the worker stands down",
			"detail", n.Detail, "drain_timeout", r.Settings.RebalanceDrain.String())
		drain(drainNotice{n})
		deadline := time.AfterFunc(r.Settings.RebalanceDrain, func() {
			if r.activeJob() != nil {
				r.Log.Warn("rebalance: the job did not finish within the drain timeout; requeueing it",
					"drain_timeout", r.Settings.RebalanceDrain.String())
			}
			stop(stopNotice{interruption.Notice{Reason: interruption.ReasonRebalance, Detail: "drain timeout"}})
		})
		defer deadline.Stop()
		// Only an interruption notice or a scale-in ends the drain early.
		if n, err = r.Watcher.Watch(ctx, func(n interruption.Notice) bool {
			return n.Reason != interruption.ReasonRebalance
		}); err != nil {
			return
		}
	}
	r.Log.Warn("interruption notice: stopping", "reason", n.Reason, "detail", n.Detail)
	stop(stopNotice{n})
}

func (r *Runner) activeJob() *backend.Job {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.active
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

// stopReason is the requeue reason of a stop: the notice's, rebalance after
// a drain, else shutdown (SIGTERM).
func stopReason(work, take context.Context) string {
	var sn stopNotice
	if errors.As(context.Cause(work), &sn) {
		return sn.n.Reason
	}
	var dn drainNotice
	if work.Err() == nil && errors.As(context.Cause(take), &dn) {
		return dn.n.Reason
	}
	return interruption.ReasonShutdown
}

// loop polls while idle and runs each leased job, until take ends (a stop or
// a drain). It probes ComfyUI before every poll and does not poll while
// ComfyUI is down; it returns ErrComfyDown when ComfyUI stays down too long.
func (r *Runner) loop(ctx, take context.Context) error {
	errorStreak := 0
	for take.Err() == nil {
		if err := r.awaitComfy(take); err != nil {
			if take.Err() != nil {
				return nil
			}
			return err
		}
		// A drain does not cancel a poll in flight: its reply may hold a
		// lease, and that job then runs like one taken just before the drain.
		job, err := r.poll(ctx)
		if ctx.Err() != nil {
			if job != nil {
				// The reply leased a job just as the stop came: hold it so
				// shutdown requeues it instead of leaving it leased for 900 s.
				r.holdLeased(job)
			}
			return nil
		}
		if err != nil {
			errorStreak++
			wait := r.Settings.ErrorBackoff.Delay(errorStreak)
			r.Log.Error("poll failed", "error", err.Error(), "retry_in", wait.String())
			_ = retry.Sleep(take, wait)
			continue
		}
		errorStreak = 0
		if job == nil {
			r.becomeIdle(ctx)
			_ = retry.Sleep(take, r.Settings.PollInterval)
			continue
		}
		r.runJob(ctx, job)
	}
	return nil
}

// poll asks for a job. A poll on the wire when the worker stops is let finish
// within the stop grace: the backend may already have leased a job to it, and
// only a reply that is read lets shutdown requeue that job (cut off, the job
// would stay leased until its lease expires).
func (r *Runner) poll(ctx context.Context) (*backend.Job, error) {
	pctx := grace.OnTheWire(ctx, r.stopGrace()) // no poll, retry or re-register starts after the stop
	var job *backend.Job
	err := r.Registrar.WithToken(pctx, func(tok string) error {
		var err error
		job, err = r.Backend.Poll(pctx, tok, backend.PollRequest{
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
