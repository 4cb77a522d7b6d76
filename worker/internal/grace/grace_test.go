package grace

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestOutlivesTheStopByTheGraceOnly(t *testing.T) {
	parent, stop := context.WithCancel(context.Background())
	ctx, cancel := AfterStop(parent, 50*time.Millisecond)
	defer cancel()
	stop()
	outlives(t, ctx, 20*time.Millisecond, "ended with the parent; want it to outlive the stop")
	endsWithin(t, ctx, 2*time.Second, "still running long after the grace")
	if !errors.Is(context.Cause(ctx), ErrOver) {
		t.Fatalf("cause %v, want ErrOver", context.Cause(ctx))
	}
}

// outlives fails with msg when ctx ends within d.
func outlives(t *testing.T, ctx context.Context, d time.Duration, msg string) {
	t.Helper()
	select {
	case <-ctx.Done():
		t.Fatal(msg)
	case <-time.After(d):
	}
}

// endsWithin fails with msg unless ctx ends within d.
func endsWithin(t *testing.T, ctx context.Context, d time.Duration, msg string) {
	t.Helper()
	select {
	case <-ctx.Done():
	case <-time.After(d):
		t.Fatal(msg)
	}
}

func TestWithoutAStopItLastsUntilCancelled(t *testing.T) {
	ctx, cancel := AfterStop(context.Background(), time.Millisecond)
	time.Sleep(10 * time.Millisecond)
	if ctx.Err() != nil {
		t.Fatalf("ended without a stop: %v", context.Cause(ctx))
	}
	cancel()
	if ctx.Err() == nil {
		t.Fatal("cancel did not end it")
	}
}

// A request sent before the stop outlives it by the grace; the retry loop's
// own context (the marked one) still ends with the stop.
func TestAttemptSentBeforeTheStopGetsTheGrace(t *testing.T) {
	parent, stop := context.WithCancel(context.Background())
	marked := OnTheWire(parent, 50*time.Millisecond)
	attempt, cancel := Attempt(marked)
	defer cancel()
	stop()
	if marked.Err() == nil {
		t.Fatal("the marked context outlived the stop: retries would go on")
	}
	outlives(t, attempt, 20*time.Millisecond, "the request on the wire ended with the stop; want the grace")
	endsWithin(t, attempt, 2*time.Second, "the request outlived its grace")
	if !errors.Is(context.Cause(attempt), ErrOver) {
		t.Fatalf("cause %v, want ErrOver", context.Cause(attempt))
	}
}

// No request starts after the stop: its attempt context is already over.
func TestAttemptAfterTheStopNeverStarts(t *testing.T) {
	parent, stop := context.WithCancel(context.Background())
	marked := OnTheWire(parent, time.Minute)
	stop()
	attempt, cancel := Attempt(marked)
	defer cancel()
	if attempt.Err() == nil {
		t.Fatal("an attempt made after the stop may still start")
	}
}

// The grace never stretches an attempt past its own deadline (a heartbeat's
// is the next beat).
func TestAttemptKeepsItsDeadline(t *testing.T) {
	marked, cancelTimeout := context.WithTimeout(OnTheWire(context.Background(), time.Minute), 30*time.Millisecond)
	defer cancelTimeout()
	attempt, cancel := Attempt(marked)
	defer cancel()
	endsWithin(t, attempt, 2*time.Second, "the grace stretched the attempt past its deadline")
}

// An unmarked context is passed through: a report's own grace is its caller's.
func TestAttemptWithoutAMarkFollowsItsContext(t *testing.T) {
	parent, stop := context.WithCancel(context.Background())
	attempt, cancel := Attempt(parent)
	defer cancel()
	stop()
	if attempt.Err() == nil {
		t.Fatal("an unmarked attempt outlived its context")
	}
}
