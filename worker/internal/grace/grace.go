// Package grace lets a call that is already on the wire finish, briefly,
// after the worker is told to stop. Cancelling such a call does not unsend
// it: the backend still acts on it (a poll still leases a job, a heartbeat
// still arrives), only the worker no longer hears the answer.
package grace

import (
	"context"
	"errors"
	"sync"
	"time"
)

// ErrOver is the cause of a context that ended because its grace ran out.
var ErrOver = errors.New("stopping: grace over")

// AfterStop returns a context that ends d after ctx ends (with cause
// ErrOver), or when cancel is called. Values of ctx carry over.
func AfterStop(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	out, cancel := context.WithCancelCause(context.WithoutCancel(ctx))
	var mu sync.Mutex
	var timer *time.Timer
	stopWatch := context.AfterFunc(ctx, func() {
		mu.Lock()
		timer = time.AfterFunc(d, func() { cancel(ErrOver) })
		mu.Unlock()
	})
	return out, func() {
		stopWatch()
		mu.Lock()
		if timer != nil {
			timer.Stop()
		}
		mu.Unlock()
		cancel(context.Canceled)
	}
}
