package metrics

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
)

// fakeClock moves only when the test says so.
type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	waiters []fakeTimer
}

type fakeTimer struct {
	at time.Time
	ch chan time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	if d <= 0 {
		ch <- c.now
		return ch
	}
	c.waiters = append(c.waiters, fakeTimer{at: c.now.Add(d), ch: ch})
	return ch
}

// advance moves time and fires the timers that are due.
func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	kept := c.waiters[:0]
	for _, w := range c.waiters {
		if w.at.After(c.now) {
			kept = append(kept, w)
			continue
		}
		w.ch <- c.now
	}
	c.waiters = kept
}

// waitBlocked waits (real time, bounded) until Run sleeps on a timer again,
// so whatever the last advance set off has finished.
func (c *fakeClock) waitBlocked(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		c.mu.Lock()
		n := len(c.waiters)
		c.mu.Unlock()
		if n == 1 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("Run is not waiting on the clock (%d timers)", n)
		}
		time.Sleep(time.Millisecond)
	}
}

// clockedCW records when (on the fake clock) each publish happened.
type clockedCW struct {
	clock *fakeClock
	mu    sync.Mutex
	at    []time.Duration
	start time.Time
}

func (f *clockedCW) PutMetricData(context.Context, *cloudwatch.PutMetricDataInput, ...func(*cloudwatch.Options)) (*cloudwatch.PutMetricDataOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.at = append(f.at, f.clock.Now().Sub(f.start))
	return &cloudwatch.PutMetricDataOutput{}, nil
}

func (f *clockedCW) times() []time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Duration(nil), f.at...)
}

// The worker starts Run before its first Set (the first publish lands just
// after Run's clock started): the unchanged state must still be republished
// every Refresh (60 s), not every other one.
func TestBusyRepublishesEveryRefreshWhileUnchanged(t *testing.T) {
	start := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := &fakeClock{now: start}
	cw := &clockedCW{clock: clock, start: start}
	b := &Busy{API: cw, Refresh: time.Minute, Clock: clock, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { b.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	clock.waitBlocked(t)

	clock.advance(10 * time.Millisecond) // ComfyUI answered; the worker goes idle
	b.Set(ctx, false)
	want := []time.Duration{10 * time.Millisecond}
	for range 4 {
		// Step to just before the next mark, then to it: the publish must
		// come exactly a minute after the previous one.
		clock.advance(time.Minute - time.Millisecond)
		clock.waitBlocked(t)
		if got := cw.times(); len(got) != len(want) {
			t.Fatalf("published at %v, before the minute was up (want %v)", got, want)
		}
		clock.advance(time.Millisecond)
		clock.waitBlocked(t)
		want = append(want, want[len(want)-1]+time.Minute)
		if got := cw.times(); len(got) != len(want) || got[len(got)-1] != want[len(want)-1] {
			t.Fatalf("published at %v, want %v (every 60 s while unchanged)", got, want)
		}
	}

	// A change publishes at once and the next republish counts from it.
	clock.advance(20 * time.Second)
	b.Set(ctx, true)
	clock.waitBlocked(t)
	changeAt := want[len(want)-1] + 20*time.Second
	clock.advance(time.Minute)
	clock.waitBlocked(t)
	got := cw.times()
	if len(got) != len(want)+2 || got[len(got)-2] != changeAt || got[len(got)-1] != changeAt+time.Minute {
		t.Fatalf("published at %v: want the change at %v and the next one a minute after it", got, changeAt)
	}
}
