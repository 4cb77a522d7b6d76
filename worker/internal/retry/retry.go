// Package retry runs an operation again after transient failures, waiting a
// capped exponential backoff with jitter between tries.
package retry

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"
)

// Policy says how long to wait between tries and when to give up.
type Policy struct {
	Initial     time.Duration // first wait
	Max         time.Duration // cap on any single wait
	Multiplier  float64       // growth per try; 2 when zero
	Jitter      float64       // 0..1: fraction of the wait that is randomised
	MaxAttempts int           // 0 means until the context ends
	// OnRetry, if set, is told about each failed try before the wait (for logs).
	OnRetry func(attempt int, err error, wait time.Duration)
}

// Default is the policy for backend calls: 1 s doubling to at most 60 s.
func Default() Policy {
	return Policy{Initial: time.Second, Max: time.Minute, Multiplier: 2, Jitter: 0.5}
}

// Delay is the wait after the given failed attempt (1-based), before jitter.
func (p Policy) Delay(attempt int) time.Duration {
	mult := p.Multiplier
	if mult <= 0 {
		mult = 2
	}
	d := float64(p.Initial)
	for i := 1; i < attempt; i++ {
		d *= mult
		if p.Max > 0 && d >= float64(p.Max) {
			return p.Max
		}
	}
	if p.Max > 0 && d > float64(p.Max) {
		return p.Max
	}
	return time.Duration(d)
}

// jittered spreads d over [d*(1-Jitter), d] so that many workers that failed
// together do not retry together.
func (p Policy) jittered(d time.Duration) time.Duration {
	if p.Jitter <= 0 || d <= 0 {
		return d
	}
	j := p.Jitter
	if j > 1 {
		j = 1
	}
	return d - time.Duration(rand.Float64()*j*float64(d))
}

type permanent struct{ err error }

func (p permanent) Error() string { return p.err.Error() }
func (p permanent) Unwrap() error { return p.err }

// Permanent marks err as not worth retrying; Do returns the inner error at once.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return permanent{err}
}

// IsPermanent reports whether err was marked with Permanent.
func IsPermanent(err error) bool {
	var p permanent
	return errors.As(err, &p)
}

// AfterHinter is an error that knows how long the server asked us to wait
// (e.g. Retry-After on a 429).
type AfterHinter interface{ RetryAfter() time.Duration }

// Do calls fn until it succeeds, returns a Permanent error, the attempts run
// out, or ctx ends. It returns the last error of fn (unwrapped from Permanent);
// when ctx ends during a wait it returns that last error joined with ctx's.
func Do(ctx context.Context, p Policy, fn func(ctx context.Context) error) error {
	for attempt := 1; ; attempt++ {
		err := fn(ctx)
		if err == nil {
			return nil
		}
		var perm permanent
		if errors.As(err, &perm) {
			return perm.err
		}
		if ctx.Err() != nil {
			return err
		}
		if p.MaxAttempts > 0 && attempt >= p.MaxAttempts {
			return err
		}
		wait := p.jittered(p.Delay(attempt))
		var hint AfterHinter
		if errors.As(err, &hint) && hint.RetryAfter() > wait {
			wait = hint.RetryAfter()
			if p.Max > 0 && wait > p.Max {
				wait = p.Max
			}
		}
		if p.OnRetry != nil {
			p.OnRetry(attempt, err, wait)
		}
		if serr := Sleep(ctx, wait); serr != nil {
			return errors.Join(err, serr)
		}
	}
}

// Sleep waits d or until ctx ends, returning ctx's error in the latter case.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
