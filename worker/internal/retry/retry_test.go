package retry

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestDelayGrowsAndIsCapped(t *testing.T) {
	p := Policy{Initial: 100 * time.Millisecond, Max: time.Second, Multiplier: 2}
	want := []time.Duration{100, 200, 400, 800, 1000, 1000}
	for i, w := range want {
		if got := p.Delay(i + 1); got != w*time.Millisecond {
			t.Fatalf("Delay(%d) = %v, want %v", i+1, got, w*time.Millisecond)
		}
	}
}

func TestJitterStaysWithinBounds(t *testing.T) {
	p := Policy{Initial: time.Second, Max: time.Second, Jitter: 0.5}
	for range 200 {
		d := p.jittered(time.Second)
		if d < 500*time.Millisecond || d > time.Second {
			t.Fatalf("jittered wait %v outside [0.5s, 1s]", d)
		}
	}
}

func TestDoRetriesUntilSuccess(t *testing.T) {
	calls := 0
	err := Do(context.Background(), Policy{Initial: time.Millisecond, Max: 2 * time.Millisecond}, func(context.Context) error {
		calls++
		if calls < 4 {
			return errors.New("transient")
		}
		return nil
	})
	if err != nil || calls != 4 {
		t.Fatalf("err=%v calls=%d, want nil and 4", err, calls)
	}
}

func TestDoStopsOnPermanentAndMaxAttempts(t *testing.T) {
	sentinel := errors.New("bad request")
	calls := 0
	err := Do(context.Background(), Policy{Initial: time.Millisecond}, func(context.Context) error {
		calls++
		return Permanent(sentinel)
	})
	if !errors.Is(err, sentinel) || calls != 1 || IsPermanent(err) {
		t.Fatalf("permanent: err=%v calls=%d", err, calls)
	}
	calls = 0
	err = Do(context.Background(), Policy{Initial: time.Millisecond, MaxAttempts: 3}, func(context.Context) error {
		calls++
		return sentinel
	})
	if !errors.Is(err, sentinel) || calls != 3 {
		t.Fatalf("max attempts: err=%v calls=%d", err, calls)
	}
}

type hinted struct{ d time.Duration }

func (h hinted) Error() string             { return "slow down" }
func (h hinted) RetryAfter() time.Duration { return h.d }

func TestDoHonoursRetryAfterAndContext(t *testing.T) {
	var waits []time.Duration
	p := Policy{Initial: time.Millisecond, Max: 30 * time.Millisecond, MaxAttempts: 2,
		OnRetry: func(_ int, _ error, w time.Duration) { waits = append(waits, w) }}
	_ = Do(context.Background(), p, func(context.Context) error { return hinted{time.Hour} })
	if len(waits) != 1 || waits[0] != 30*time.Millisecond {
		t.Fatalf("waits=%v, want the hint capped at Max (30ms)", waits)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := Do(ctx, Policy{Initial: time.Hour}, func(context.Context) error { return errors.New("down") })
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > time.Second {
		t.Fatalf("err=%v after %v, want deadline exceeded quickly", err, time.Since(start))
	}
}
