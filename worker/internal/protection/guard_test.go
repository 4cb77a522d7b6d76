package protection

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/bp/infra/worker/internal/retry"
)

type recorder struct {
	calls []bool
	fails int
}

func (r *recorder) SetProtected(_ context.Context, p bool) error {
	if r.fails > 0 {
		r.fails--
		return errors.New("throttled")
	}
	r.calls = append(r.calls, p)
	return nil
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func TestGuardCallsOnlyOnChange(t *testing.T) {
	rec := &recorder{}
	g := NewGuard(rec, retry.Policy{Initial: time.Millisecond}, quiet, false, false)
	ctx := context.Background()
	for _, want := range []bool{false, false, true, true, true, false, false} {
		if err := g.Set(ctx, want); err != nil {
			t.Fatal(err)
		}
	}
	if len(rec.calls) != 2 || rec.calls[0] != true || rec.calls[1] != false {
		t.Fatalf("calls %v, want [true false]", rec.calls)
	}
}

func TestGuardUnknownStateAlwaysCallsFirstAndRetries(t *testing.T) {
	rec := &recorder{fails: 2}
	g := NewGuard(rec, retry.Policy{Initial: time.Millisecond}, quiet, false, true)
	var changes []bool
	g.OnChange = func(p bool) { changes = append(changes, p) }
	if err := g.Set(context.Background(), false); err != nil {
		t.Fatal(err)
	}
	if len(rec.calls) != 1 || g.Calls() != 3 || len(changes) != 1 {
		t.Fatalf("calls=%v attempts=%d changes=%v, want one success after two failures", rec.calls, g.Calls(), changes)
	}
}

// appliedThenFails applies the change and then reports an error, like a call
// that timed out after AWS had already applied it.
type appliedThenFails struct {
	state bool
	calls []bool
	fail  bool
}

func (a *appliedThenFails) SetProtected(_ context.Context, p bool) error {
	a.calls = append(a.calls, p)
	a.state = p
	if a.fail {
		return errors.New("request timed out")
	}
	return nil
}

func TestGuardFailedCallMakesTheStateUnknown(t *testing.T) {
	api := &appliedThenFails{fail: true}
	g := NewGuard(api, retry.Policy{Initial: time.Millisecond, MaxAttempts: 1}, quiet, false, false)
	if err := g.Set(context.Background(), true); err == nil {
		t.Fatal("want the failed call reported")
	}
	api.fail = false
	if err := g.Set(context.Background(), false); err != nil {
		t.Fatal(err)
	}
	if api.state || len(api.calls) != 2 {
		t.Fatalf("calls %v, protected %v: after a failed Set(true) a Set(false) must call and clear it", api.calls, api.state)
	}
	// Also when the failed call was the one turning protection off.
	api.fail = true
	_ = g.Set(context.Background(), true)
	if err := g.Set(context.Background(), false); err == nil {
		t.Fatal("want the failed call reported")
	}
	api.fail = false
	if err := g.Set(context.Background(), false); err != nil || len(api.calls) != 5 {
		t.Fatalf("calls %v err %v: a failed Set(false) must be retried by the next Set(false)", api.calls, err)
	}
}

func TestGuardTellsBeforeCallingAutoScaling(t *testing.T) {
	api := &appliedThenFails{}
	g := NewGuard(api, retry.Policy{Initial: time.Millisecond}, quiet, false, false)
	var seen []string
	g.BeforeCall = func(want bool) { seen = append(seen, fmt.Sprintf("before %v after %d calls", want, len(api.calls))) }
	if err := g.Set(context.Background(), true); err != nil {
		t.Fatal(err)
	}
	if len(seen) != 1 || seen[0] != "before true after 0 calls" {
		t.Fatalf("BeforeCall saw %v, want it told before the first call", seen)
	}
}
