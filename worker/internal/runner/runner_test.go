package runner

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"

	"github.com/bp/infra/worker/internal/backend"
	"github.com/bp/infra/worker/internal/comfyui"
	"github.com/bp/infra/worker/internal/fakes"
	"github.com/bp/infra/worker/internal/metrics"
	"github.com/bp/infra/worker/internal/protection"
	"github.com/bp/infra/worker/internal/registration"
	"github.com/bp/infra/worker/internal/retry"
	"github.com/bp/infra/worker/internal/state"
)

const workerID = "i-0123456789abcdef0"

// onReply lets a test act on a backend reply before the worker sees it.
type onReply struct {
	mu   sync.Mutex
	hook func(verb string, body []byte)
}

func (o *onReply) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	o.mu.Lock()
	hook := o.hook
	o.mu.Unlock()
	if hook != nil {
		hook(req.URL.Path[strings.LastIndex(req.URL.Path, "/")+1:], body)
	}
	return resp, nil
}

// guardCalls records protection calls in order.
type guardCalls struct {
	mu    sync.Mutex
	calls []string
}

func (g *guardCalls) add(s string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.calls = append(g.calls, s)
}

func (g *guardCalls) list() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]string(nil), g.calls...)
}

type recordingSetter struct{ g *guardCalls }

func (r recordingSetter) SetProtected(_ context.Context, p bool) error {
	if p {
		r.g.add("protect")
	} else {
		r.g.add("unprotect")
	}
	return nil
}

type testRunner struct {
	*Runner
	fb    *fakes.Backend
	comfy *fakes.ComfyUI
	hooks *onReply
	order *guardCalls
}

func newTestRunner(t *testing.T) *testRunner {
	t.Helper()
	fb := fakes.NewBackend("s")
	comfy := fakes.NewComfyUI()
	t.Cleanup(func() { fb.Close(); comfy.Close() })
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	pol := retry.Policy{Initial: time.Millisecond, Max: 5 * time.Millisecond}
	hooks := &onReply{}
	bc := &backend.Client{BaseURL: fb.URL(), HTTP: &http.Client{Transport: hooks}, Retry: pol, Log: log}
	dir := t.TempDir()
	order := &guardCalls{}
	r := &Runner{
		Settings: Settings{WorkerID: workerID, Capabilities: []string{"comfyui"}, PollInterval: 5 * time.Millisecond,
			HeartbeatInterval: 20 * time.Millisecond, LeaseTTL: 300 * time.Millisecond, JobTimeout: 5 * time.Second,
			ShutdownDeadline: 3 * time.Second, ComfyReadyTimeout: time.Second, HistoryInterval: 5 * time.Millisecond,
			ErrorBackoff: pol, TransferRetry: retry.Policy{Initial: time.Millisecond, MaxAttempts: 3}, ProtectionTimeout: time.Second},
		Backend: bc,
		Registrar: &registration.Registrar{Backend: bc, Store: state.TokenStore{Path: filepath.Join(dir, "token.json")},
			Secret:  func(context.Context) (string, error) { return "s", nil },
			Request: backend.RegisterRequest{WorkerID: workerID, MaxConcurrency: 1, FleetSlug: "gpu-default", Stage: "staging"},
			Retry:   pol, Log: log},
		Comfy:      &comfyui.Client{BaseURL: comfy.URL(), HTTP: http.DefaultClient},
		Protection: protection.NewGuard(recordingSetter{order}, pol, log, false, false),
		Runtime:    state.RuntimeStore{Path: filepath.Join(dir, "runtime.json")},
		Transfer:   http.DefaultClient,
		Log:        log,
	}
	r.Protection.OnChange = r.ProtectionChanged
	r.Protection.BeforeCall = r.ProtectionMayChange
	return &testRunner{Runner: r, fb: fb, comfy: comfy, hooks: hooks, order: order}
}

func (tr *testRunner) setHook(h func(verb string, body []byte)) {
	tr.hooks.mu.Lock()
	defer tr.hooks.mu.Unlock()
	tr.hooks.hook = h
}

func TestStopWhilePollLeasesAJobRequeuesIt(t *testing.T) {
	tr := newTestRunner(t)
	id := tr.fb.AddJob(map[string]any{"workflow": map[string]any{}})
	ctx, cancel := context.WithCancel(context.Background())
	// The stop arrives after the backend leased the job but before the
	// worker looked at the reply.
	tr.setHook(func(verb string, body []byte) {
		if verb == "poll" && strings.Contains(string(body), `"lease_token"`) {
			cancel()
		}
	})
	_ = tr.loop(ctx, ctx)
	if err := tr.shutdown("shutdown"); err != nil {
		t.Fatal(err)
	}
	j := tr.fb.Job(id)
	if j.State != fakes.Queued || len(j.Requeues) != 1 || j.Requeues[0] != "shutdown" {
		t.Fatalf("job state %s requeues %v: a job leased by the last poll must be requeued", j.State, j.Requeues)
	}
	if tr.comfy.Prompts() != 0 {
		t.Fatal("the job must not be started after the stop")
	}
}

// hangingMetrics records its call and then hangs until its context ends.
type hangingMetrics struct{ order *guardCalls }

func (h hangingMetrics) PutMetricData(ctx context.Context, _ *cloudwatch.PutMetricDataInput, _ ...func(*cloudwatch.Options)) (*cloudwatch.PutMetricDataOutput, error) {
	h.order.add("metrics")
	<-ctx.Done()
	return nil, ctx.Err()
}

func TestShutdownClearsProtectionAndDeregistersBeforeTheMetric(t *testing.T) {
	tr := newTestRunner(t)
	tr.Metrics = &metrics.Busy{API: hangingMetrics{tr.order}, Refresh: time.Hour, Timeout: 50 * time.Millisecond, Log: tr.Log}
	tr.setHook(func(verb string, _ []byte) {
		if verb == "deregister" {
			tr.order.add("deregister")
		}
	})
	ctx := context.Background()
	if _, err := tr.Registrar.Token(ctx); err != nil {
		t.Fatal(err)
	}
	if err := tr.Protection.Set(ctx, true); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := tr.shutdown("spot_interruption"); err != nil {
		t.Fatal(err)
	}
	got := strings.Join(tr.order.list(), ",")
	if got != "protect,unprotect,deregister,metrics" {
		t.Fatalf("shutdown order %s, want protection cleared and deregistered before the metric", got)
	}
	if took := time.Since(start); took > time.Second {
		t.Fatalf("shutdown took %v with a hanging metric", took)
	}
}
