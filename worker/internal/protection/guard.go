// Package protection holds this instance's scale-in protection: on while a job
// is leased, off when idle. Guard calls Auto Scaling only when the wanted state
// differs from the last state it set, so an idle worker makes no calls.
package protection

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/bp/infra/worker/internal/retry"
)

// Setter changes the protection of this instance.
type Setter interface {
	SetProtected(ctx context.Context, protected bool) error
}

// Guard remembers the protection state and changes it only when needed.
type Guard struct {
	Setter Setter
	Retry  retry.Policy
	Log    *slog.Logger
	// OnChange, if set, is told each new state after it was applied (the
	// runtime file records it so a crash never leaves protection stuck on).
	OnChange func(protected bool)
	// BeforeCall, if set, is told the wanted state before Auto Scaling is
	// called, so the runtime file can say "protection may be on" before the
	// call can apply it (a crash or timeout mid-call then cannot hide it).
	BeforeCall func(want bool)

	mu    sync.Mutex
	known bool
	state bool
	calls int
}

// NewGuard starts from a known state; pass unknown=true after a crash, when
// protection might still be on: the first Set then always calls.
func NewGuard(s Setter, p retry.Policy, log *slog.Logger, initial bool, unknown bool) *Guard {
	return &Guard{Setter: s, Retry: p, Log: log, known: !unknown, state: initial}
}

// Set makes protection equal want, retrying failed calls until ctx ends.
func (g *Guard) Set(ctx context.Context, want bool) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.known && g.state == want {
		return nil
	}
	p := g.Retry
	p.OnRetry = func(attempt int, err error, wait time.Duration) {
		g.Log.Warn("setting scale-in protection failed, retrying", "protected", want,
			"attempt", attempt, "wait", wait.String(), "error", err.Error())
	}
	if g.BeforeCall != nil {
		g.BeforeCall(want)
	}
	err := retry.Do(ctx, p, func(ctx context.Context) error {
		g.calls++
		return g.Setter.SetProtected(ctx, want)
	})
	if err != nil {
		// A failed or timed-out call may still have been applied by AWS: the
		// state is unknown now, so the next Set must call whatever it asks.
		g.known = false
		return fmt.Errorf("set scale-in protection to %v: %w", want, err)
	}
	g.known, g.state = true, want
	g.Log.Info("scale-in protection changed", "protected", want)
	if g.OnChange != nil {
		g.OnChange(want)
	}
	return nil
}

// Calls is how many Auto Scaling calls Set has made.
func (g *Guard) Calls() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.calls
}

// Protected reports the last state set (false when unknown).
func (g *Guard) Protected() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.known && g.state
}

// Forget makes the state unknown (e.g. a crashed run may have left protection
// on), so the next Set calls Auto Scaling whatever it asks for.
func (g *Guard) Forget() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.known = false
}
