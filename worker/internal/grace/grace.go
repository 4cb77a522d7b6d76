// Package grace lets a call that is already on the wire finish, briefly,
// after the worker is told to stop: a whole call with its retries
// (AfterStop, for reports), or only a request already sent (OnTheWire and
// Attempt, for polls and heartbeats). Cancelling such a call does not unsend
// it: the backend still acts on it (a poll still leases a job, a heartbeat
// still arrives), only the worker no longer hears the answer.
package grace

import (
	"context"
	"errors"
	"time"
)

// ErrOver is the cause of a context that ended because its grace ran out.
var ErrOver = errors.New("stopping: grace over")

// AfterStop returns a context that ends d after ctx ends (with cause
// ErrOver), or when cancel is called. Values of ctx carry over.
func AfterStop(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	out, cancel := context.WithCancelCause(context.WithoutCancel(ctx))
	stopWatch := context.AfterFunc(ctx, func() {
		grace := time.AfterFunc(d, func() { cancel(ErrOver) })
		context.AfterFunc(out, func() { grace.Stop() })
	})
	return out, func() {
		stopWatch()
		cancel(context.Canceled)
	}
}

type onTheWireKey struct{}

// OnTheWire returns ctx marked for Attempt: ctx still ends as before, so a
// retry loop over it stops retrying at the stop, while the request of each
// attempt (made with Attempt) may go on for d after ctx ends.
func OnTheWire(ctx context.Context, d time.Duration) context.Context {
	return context.WithValue(ctx, onTheWireKey{}, d)
}

// Attempt returns the context for one request under ctx: ctx itself unless
// ctx is marked by OnTheWire. Then it ends d after ctx ends, at ctx's own
// deadline if that is earlier, and at once if ctx ended before the request
// started (a request not sent yet is not on the wire).
func Attempt(ctx context.Context) (context.Context, context.CancelFunc) {
	d, ok := ctx.Value(onTheWireKey{}).(time.Duration)
	if !ok || ctx.Err() != nil {
		return context.WithCancel(ctx) // ended already: so is this, with ctx's cause
	}
	out, cancel := AfterStop(ctx, d)
	if deadline, ok := ctx.Deadline(); ok {
		var cancelDeadline context.CancelFunc
		out, cancelDeadline = context.WithDeadline(out, deadline)
		return out, func() { cancelDeadline(); cancel() }
	}
	return out, cancel
}
