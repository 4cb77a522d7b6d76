// Package lease keeps a job lease alive with heartbeats while the job runs.
package lease

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/bp/infra/worker/internal/backend"
	"github.com/bp/infra/worker/internal/grace"
)

// Keeper sends a heartbeat every Interval. The lease lasts TTL (900 s): if no
// heartbeat succeeded for a whole TTL, the backend will have given the job to
// someone else, so the lease counts as lost too.
type Keeper struct {
	Interval time.Duration
	TTL      time.Duration
	// StopGrace is how long a heartbeat request already sent may go on after
	// Run's ctx ends (Send must make its requests with grace.Attempt, as
	// backend.Client does). Cutting it off would not unsend it: the backend
	// could then see it after the job's outcome, which the caller reports next.
	StopGrace time.Duration
	Send      func(ctx context.Context) error
	Log       *slog.Logger
}

// Run beats until ctx ends (nil) or the lease is lost (an error wrapping
// backend.ErrLeaseLost).
func (k *Keeper) Run(ctx context.Context) error {
	t := time.NewTicker(k.Interval)
	defer t.Stop()
	lastOK := time.Now()
	// One beat may retry transient failures, but not past the next beat nor
	// past the stop; a request already sent gets the stop grace.
	beats := grace.OnTheWire(ctx, k.StopGrace)
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		beatCtx, cancel := context.WithTimeout(beats, k.Interval)
		err := k.Send(beatCtx)
		cancel()
		switch {
		case err == nil:
			lastOK = time.Now()
			k.Log.Debug("heartbeat sent")
		case ctx.Err() != nil:
			return nil
		case errors.Is(err, backend.ErrLeaseLost):
			return err
		default:
			k.Log.Warn("heartbeat failed", "error", err.Error(), "since_last_ok", time.Since(lastOK).String())
			if time.Since(lastOK) >= k.TTL {
				return errors.Join(backend.ErrLeaseLost, errors.New("no heartbeat succeeded for a whole lease period"), err)
			}
		}
	}
}
