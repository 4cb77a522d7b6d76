package cli_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bp/infra/internal/testtool"
	"github.com/bp/infra/internal/workerbuild"
	"github.com/bp/infra/worker/internal/fakes"
)

// The scenarios that must hold "as an operator runs it" start the built
// worker binary (scripts/build-worker.sh, as the AMI ships it) as a
// child process at its production defaults: poll 3 s, heartbeat 60 s, lease
// 900 s, IMDS every 5 s, job timeout 1 h, shutdown deadline 24 s. Only the
// token file (and where a test says so, one bound under test) is set.

var (
	buildDir  string
	buildPath string
	buildErr  error
)

// workerBinary returns the worker binary TestMain built before the scenarios
// started. Without a go toolchain the test is skipped locally and fails
// under CI=true (testtool).
func workerBinary(t testing.TB) string {
	t.Helper()
	testtool.Require(t, "go", "https://go.dev/dl")
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return buildPath
}

// buildWorkerFirst builds the worker as the AMI ships it (workerbuild) into
// buildPath before any scenario runs, so that the compile and link (seconds
// of both cores after a change) do not starve the fast-interval scenarios
// that run beside the binary ones; the binary scenarios need it anyway.
func buildWorkerFirst() {
	if _, err := testtool.Find("go"); err != nil {
		return // workerBinary skips or fails the scenarios
	}
	if buildDir, buildErr = os.MkdirTemp("", "worker-bin-"); buildErr != nil {
		return
	}
	buildPath = filepath.Join(buildDir, "worker")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	buildErr = workerbuild.Build(ctx, buildPath)
}

func removeWorkerBinary() {
	if buildDir != "" {
		_ = os.RemoveAll(buildDir)
	}
}

// childEnv is the environment systemd would give the worker: the env file's
// keys, and AWS endpoints through the SDK's standard variables.
func (s *stack) childEnv() []string {
	env := append(os.Environ(),
		"AWS_ACCESS_KEY_ID=AKIDFAKE", "AWS_SECRET_ACCESS_KEY=fake",
		"AWS_EC2_METADATA_SERVICE_ENDPOINT="+s.imds.Server.URL,
		"AWS_ENDPOINT_URL_AUTO_SCALING="+s.asg.Server.URL,
		"AWS_ENDPOINT_URL_SECRETS_MANAGER="+s.sm.Server.URL)
	for k, v := range s.vars() {
		env = append(env, k+"="+v)
	}
	return env
}

// process is a running worker binary.
type process struct {
	cmd  *exec.Cmd
	logs *syncBuffer
	done chan int
}

// startBinary runs `worker run` at production defaults plus extra flags.
func (s *stack) startBinary(t testing.TB, extra ...string) *process {
	t.Helper()
	args := append([]string{"run", "-token-file=" + s.tokenFile}, extra...)
	p := &process{cmd: exec.Command(workerBinary(t), args...), logs: &syncBuffer{}, done: make(chan int, 1)}
	p.cmd.Env = s.childEnv()
	p.cmd.Stdout, p.cmd.Stderr = p.logs, p.logs
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		err := p.cmd.Wait()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			code = -1
		}
		p.done <- code
	}()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		if t.Failed() {
			t.Logf("worker binary logs:\n%s", p.logs.String())
		}
	})
	return p
}

// exited reports the exit code if the process has exited.
func (p *process) exited() (int, bool) {
	select {
	case code := <-p.done:
		p.done <- code
		return code, true
	default:
		return 0, false
	}
}

// wait returns the exit code, failing after d.
func (p *process) wait(t testing.TB, d time.Duration) int {
	t.Helper()
	select {
	case code := <-p.done:
		p.done <- code
		return code
	case <-time.After(d):
		t.Fatalf("worker binary did not exit within %v", d)
		return -1
	}
}

// terminate sends SIGTERM (as systemctl stop does) and returns the exit code.
func (p *process) terminate(t testing.TB) int {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	return p.wait(t, 30*time.Second)
}

// logged reports whether a JSON log line has msg containing substr.
func logged(logs string, substr string) bool {
	sc := bufio.NewScanner(strings.NewReader(logs))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var line struct {
			Msg string `json:"msg"`
		}
		if json.Unmarshal(sc.Bytes(), &line) == nil && strings.Contains(line.Msg, substr) {
			return true
		}
	}
	return false
}

// within polls cond every 10 ms for up to d.
func within(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for: %s", d, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// outcomeToPollGaps measures, for every accepted complete/fail/requeue, the
// time until the worker's next poll arrived (the worker was idle in between).
// ok is false while the last outcome has no poll after it yet.
func outcomeToPollGaps(calls []fakes.Call) (gaps []time.Duration, ok bool) {
	ok = true
	for i, c := range calls {
		if c.Status != 200 || (c.Verb != "complete" && c.Verb != "fail" && c.Verb != "requeue") {
			continue
		}
		found := false
		for _, next := range calls[i+1:] {
			if next.Verb == "poll" {
				gaps = append(gaps, next.At.Sub(c.At))
				found = true
				break
			}
		}
		ok = ok && found
	}
	return gaps, ok
}

// heartbeatsAfterOutcome lists heartbeats that name a dispatch after that
// dispatch's lease was ended by the worker's complete/fail/requeue. (A job
// leased again after a requeue has a new lease; heartbeats for it are fine
// once a later poll handed it out.)
func heartbeatsAfterOutcome(calls []fakes.Call) []string {
	ended := map[string]bool{}
	var bad []string
	for _, c := range calls {
		switch {
		case c.Status == 200 && (c.Verb == "complete" || c.Verb == "fail" || c.Verb == "requeue"):
			ended[c.DispatchID] = true
		case c.Verb == "poll":
			ended = map[string]bool{} // a new lease may start here; ledger violations cover the rest
		case c.Verb == "heartbeat" && ended[c.DispatchID]:
			bad = append(bad, fmt.Sprintf("heartbeat for dispatch %s at %s", c.DispatchID, c.At.Format(time.RFC3339Nano)))
		}
	}
	return bad
}
