package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bp/infra/bootcontract"
	"github.com/bp/infra/internal/fakeaws"
	"github.com/bp/infra/worker/internal/awsclients"
	"github.com/bp/infra/worker/internal/cli"
	"github.com/bp/infra/worker/internal/fakes"
)

const (
	instanceID = "i-0123456789abcdef0"
	secretARN  = "arn:aws:secretsmanager:us-east-1:123456789012:secret:fleet-AbCdEf"
	secret     = "fleet-secret-value"
	asgName    = "asg-staging-gpu-default"
)

// stack is every fake the worker talks to.
type stack struct {
	backend   *fakes.Backend
	comfy     *fakes.ComfyUI
	imds      *fakeaws.IMDS
	asg       *fakeaws.AutoScaling
	sm        *fakeaws.SecretsManager
	tokenFile string
}

func newStack(t testing.TB) *stack {
	t.Helper()
	s := &stack{
		backend:   fakes.NewBackend(secret),
		comfy:     fakes.NewComfyUI(),
		imds:      fakeaws.NewIMDS(t, instanceID),
		asg:       fakeaws.NewAutoScaling(t, workerGroup()),
		sm:        fakeaws.NewSecretsManager(t, map[string]string{secretARN: `{"COMFYUI_FLEET_SECRET":"` + secret + `"}`}),
		tokenFile: filepath.Join(t.TempDir(), "state", "token.json"),
	}
	t.Cleanup(func() {
		s.backend.Close()
		s.comfy.Close()
	})
	return s
}

// workerGroup is the Auto Scaling group the worker runs in: this instance,
// in service and unprotected (the fake refuses protection calls for any
// other group or instance).
func workerGroup() fakeaws.Group {
	return fakeaws.Group{Name: asgName, Max: 1, Desired: 1,
		Instances: []fakeaws.Instance{{ID: instanceID, LifecycleState: "InService"}}}
}

func (s *stack) vars() map[string]string {
	return map[string]string{
		bootcontract.EnvAPIBaseURL:     s.backend.URL(),
		bootcontract.EnvStage:          "staging",
		bootcontract.EnvFleetSlug:      "gpu-default",
		bootcontract.EnvASGName:        asgName,
		bootcontract.EnvFleetSecretARN: secretARN,
		bootcontract.EnvRegion:         "us-east-1",
		bootcontract.EnvComfyUIURL:     s.comfy.URL(),
		bootcontract.EnvLogLevel:       "debug",
	}
}

// syncBuffer is a log sink safe for the worker's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func (s *stack) env(logs *syncBuffer) cli.Env {
	vars := s.vars()
	return cli.Env{
		Lookup: func(k string) (string, bool) { v, ok := vars[k]; return v, ok },
		Stdout: logs, Stderr: logs,
		AWS: awsclients.Options{
			AutoScalingEndpoint:    s.asg.Server.URL,
			SecretsManagerEndpoint: s.sm.Server.URL,
			IMDSEndpoint:           s.imds.Server.URL,
			StaticCredentials:      true,
		},
	}
}

// fastFlags shrink every interval so a scenario takes well under a second.
func (s *stack) fastFlags(extra ...string) []string {
	return append([]string{"run",
		"-token-file=" + s.tokenFile,
		"-poll-interval=5ms",
		"-heartbeat-interval=20ms",
		"-lease-ttl=300ms",
		"-interruption-interval=10ms",
		"-retry-max=40ms",
		"-shutdown-deadline=3s",
		"-job-timeout=5s",
		"-comfyui-ready-timeout=5s",
	}, extra...)
}

// worker is a running worker.
type worker struct {
	cancel context.CancelFunc
	done   chan int
	logs   *syncBuffer
}

func (s *stack) start(t testing.TB, extra ...string) *worker {
	t.Helper()
	return s.startArgs(t, s.fastFlags(extra...))
}

// startProduction runs the worker in-process at its production defaults.
func (s *stack) startProduction(t testing.TB) *worker {
	t.Helper()
	return s.startArgs(t, []string{"run", "-token-file=" + s.tokenFile})
}

func (s *stack) startArgs(t testing.TB, args []string) *worker {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	w := &worker{cancel: cancel, done: make(chan int, 1), logs: &syncBuffer{}}
	go func() { w.done <- cli.Main(ctx, args, s.env(w.logs)) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-w.done:
		case <-time.After(10 * time.Second):
			t.Error("worker did not stop within 10s of cancel")
		}
		if t.Failed() {
			t.Logf("worker logs:\n%s", w.logs.String())
		}
	})
	return w
}

// stop cancels the root context (as SIGTERM does) and returns the exit code.
func (w *worker) stop(t testing.TB) int {
	t.Helper()
	w.cancel()
	return w.wait(t, 10*time.Second)
}

func (w *worker) wait(t testing.TB, d time.Duration) int {
	t.Helper()
	select {
	case code := <-w.done:
		w.done <- code // for the cleanup
		return code
	case <-time.After(d):
		t.Fatalf("worker did not exit within %v; logs:\n%s", d, w.logs.String())
		return -1
	}
}

// eventually polls cond every 2ms for up to 5s.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for: %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func workflow(tag string) map[string]any {
	return map[string]any{
		"workflow":       map[string]any{"3": map[string]any{"class_type": "KSampler", "inputs": map[string]any{"tag": tag}}},
		"output_node_id": "9",
	}
}

// planByTag lets each job's workflow choose its fake ComfyUI behaviour.
func planByTag(plans map[string]fakes.PromptPlan) func(json.RawMessage) fakes.PromptPlan {
	return func(p json.RawMessage) fakes.PromptPlan {
		for tag, plan := range plans {
			if strings.Contains(string(p), `"tag":"`+tag+`"`) {
				return plan
			}
		}
		return fakes.PromptPlan{OutputSize: 1024}
	}
}

func checkLedger(t testing.TB, s *stack) {
	t.Helper()
	if err := s.backend.CheckLedger(false); err != nil {
		t.Fatal(err)
	}
}

// checkProtectionCleared: the last protection call turned it off and the
// instance is unprotected.
func checkProtectionCleared(t testing.TB, s *stack) {
	t.Helper()
	calls := s.asg.ProtectionCalls()
	if s.asg.Protected(instanceID) {
		t.Fatalf("instance still protected after exit; calls %+v", calls)
	}
	for _, c := range calls {
		if c.Group != asgName || len(c.Instances) != 1 || c.Instances[0] != instanceID {
			t.Fatalf("protection call for the wrong group/instance: %+v", c)
		}
	}
}
