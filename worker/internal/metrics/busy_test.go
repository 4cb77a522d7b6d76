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

type fakeCW struct {
	mu     sync.Mutex
	values []float64
	dims   map[string]string
	ns     string
}

func (f *fakeCW) PutMetricData(_ context.Context, in *cloudwatch.PutMetricDataInput, _ ...func(*cloudwatch.Options)) (*cloudwatch.PutMetricDataOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ns = *in.Namespace
	f.dims = map[string]string{}
	for _, d := range in.MetricData[0].Dimensions {
		f.dims[*d.Name] = *d.Value
	}
	f.values = append(f.values, *in.MetricData[0].Value)
	return &cloudwatch.PutMetricDataOutput{}, nil
}

func TestBusyPublishesOnChangeOnly(t *testing.T) {
	cw := &fakeCW{}
	b := &Busy{API: cw, Namespace: "bp/staging/gpu-worker", FleetSlug: "gpu-default", Stage: "staging", Refresh: time.Hour,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	ctx := context.Background()
	for _, s := range []bool{false, false, true, true, false} {
		b.Set(ctx, s)
	}
	if len(cw.values) != 3 || cw.values[0] != 0 || cw.values[1] != 1 || cw.values[2] != 0 {
		t.Fatalf("values %v, want [0 1 0]", cw.values)
	}
	// The worker's own namespace, never the backend's ComfyUI/Workers.
	if cw.ns != "bp/staging/gpu-worker" || cw.dims["FleetSlug"] != "gpu-default" || cw.dims["Stage"] != "staging" {
		t.Fatalf("namespace %q dims %v", cw.ns, cw.dims)
	}
	var nilBusy *Busy
	nilBusy.Set(ctx, true) // disabled metrics must be a no-op
}

func TestBusyRepublishesAtMostOncePerRefresh(t *testing.T) {
	cw := &fakeCW{}
	b := &Busy{API: cw, Refresh: 20 * time.Millisecond, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	ctx, cancel := context.WithTimeout(context.Background(), 110*time.Millisecond)
	defer cancel()
	b.Set(ctx, true)
	b.Run(ctx)
	cw.mu.Lock()
	defer cw.mu.Unlock()
	// 1 initial + about 110/20 refreshes; never more than one per period.
	if len(cw.values) < 3 || len(cw.values) > 7 {
		t.Fatalf("%d publishes in 110ms with a 20ms refresh", len(cw.values))
	}
}

type hangingCW struct{}

func (hangingCW) PutMetricData(ctx context.Context, _ *cloudwatch.PutMetricDataInput, _ ...func(*cloudwatch.Options)) (*cloudwatch.PutMetricDataOutput, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

func TestBusyPublishIsBoundedByItsOwnTimeout(t *testing.T) {
	b := &Busy{API: hangingCW{}, Refresh: time.Hour, Timeout: 20 * time.Millisecond,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	done := make(chan struct{})
	go func() { b.Set(context.Background(), true); close(done) }()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("Set blocked on a hanging CloudWatch call: a publish must have its own short timeout")
	}
}
