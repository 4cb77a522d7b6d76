package runner

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/bp/infra/worker/internal/backend"
)

// shutdown requeues the held job, clears protection, deregisters and then
// publishes the idle metric, all within ShutdownDeadline of the stop. It runs on every exit
// path of Run.
func (r *Runner) shutdown(reason string) error {
	start := time.Now()
	d := r.Settings.ShutdownDeadline
	r.mu.Lock()
	from := r.stoppedAt
	r.mu.Unlock()
	if from.IsZero() || from.After(start) {
		from = start
	}
	// The deadline counts from the stop, not from here: notice-to-exit is
	// what must stay within budget.
	ctx, cancel := context.WithDeadline(context.Background(), from.Add(d))
	defer cancel()
	r.Log.Info("shutting down", "reason", reason)
	var errs []error

	r.mu.Lock()
	job := r.active
	r.mu.Unlock()
	if job != nil {
		r.interruptComfy()
		rctx, rcancel := context.WithTimeout(ctx, d/2)
		err := r.Registrar.WithToken(rctx, func(tok string) error {
			return r.Backend.Requeue(rctx, tok, job.Lease(r.Settings.WorkerID), reason)
		})
		rcancel()
		switch {
		case err == nil:
			r.Log.Info("job requeued", "dispatch_id", job.DispatchID.String(), "reason", reason)
			r.finishJob()
		case errors.Is(err, backend.ErrLeaseLost):
			r.Log.Warn("requeue refused: the lease was already gone", "dispatch_id", job.DispatchID.String())
			r.finishJob()
		default:
			// The runtime file keeps the lease so a restart can still requeue it.
			errs = append(errs, fmt.Errorf("requeue job %s: %w", job.DispatchID.String(), err))
		}
	}

	// Then protection: an instance left protected is what costs money.
	pctx, pcancel := context.WithTimeout(ctx, d/4)
	if err := r.Protection.Set(pctx, false); err != nil {
		errs = append(errs, err)
	}
	pcancel()

	if tok := r.Registrar.Current(); tok != "" {
		if err := r.Backend.Deregister(ctx, tok); err != nil {
			errs = append(errs, fmt.Errorf("deregister: %w", err))
		} else {
			r.Registrar.Forget()
			r.Log.Info("deregistered")
		}
	}

	// The metric last, bounded by its own short timeout (metrics.Busy.Timeout):
	// SDK retries must not eat the budget of the steps above.
	r.Metrics.Set(ctx, false)
	r.Log.Info("shutdown finished", "reason", reason, "took", time.Since(start).String())
	return errors.Join(errs...)
}
