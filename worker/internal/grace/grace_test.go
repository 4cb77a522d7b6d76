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
	select {
	case <-ctx.Done():
		t.Fatal("ended with the parent; want it to outlive the stop")
	case <-time.After(20 * time.Millisecond):
	}
	select {
	case <-ctx.Done():
		if !errors.Is(context.Cause(ctx), ErrOver) {
			t.Fatalf("cause %v, want ErrOver", context.Cause(ctx))
		}
	case <-time.After(2 * time.Second):
		t.Fatal("still running long after the grace")
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
