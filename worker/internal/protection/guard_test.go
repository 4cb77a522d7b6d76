package protection

import (
	"context"
	"errors"
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
