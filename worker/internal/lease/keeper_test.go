package lease

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bp/infra/worker/internal/backend"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func TestKeeperBeatsUntilCancelled(t *testing.T) {
	var n atomic.Int32
	k := &Keeper{Interval: 5 * time.Millisecond, TTL: time.Second, Log: quiet,
		Send: func(context.Context) error { n.Add(1); return nil }}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Millisecond)
	defer cancel()
	if err := k.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if n.Load() < 5 {
		t.Fatalf("only %d heartbeats in 60ms at a 5ms interval", n.Load())
	}
}

func TestKeeperStopsOnLeaseLost(t *testing.T) {
	k := &Keeper{Interval: time.Millisecond, TTL: time.Second, Log: quiet,
		Send: func(context.Context) error { return backend.ErrLeaseLost }}
	if err := k.Run(context.Background()); !errors.Is(err, backend.ErrLeaseLost) {
		t.Fatalf("err=%v, want ErrLeaseLost", err)
	}
}

func TestKeeperGivesUpAfterTTLOfFailures(t *testing.T) {
	k := &Keeper{Interval: time.Millisecond, TTL: 20 * time.Millisecond, Log: quiet,
		Send: func(context.Context) error { return errors.New("connection refused") }}
	start := time.Now()
	err := k.Run(context.Background())
	if !errors.Is(err, backend.ErrLeaseLost) || time.Since(start) < 20*time.Millisecond {
		t.Fatalf("err=%v after %v, want ErrLeaseLost after the TTL", err, time.Since(start))
	}
}
