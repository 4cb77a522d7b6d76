package cli_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bp/infra/worker/internal/fakes"
)

// The first run is the test binary itself acting as the worker (TestMain,
// WORKER_CRASH_CHILD), so that it can be SIGKILLed mid-job.
func TestCrashAndRestartReusesTokenAndRequeuesTheJob(t *testing.T) {
	parallelFast(t)
	s := newStack(t)
	id := s.backend.AddJob(workflow("crash"))
	first := true
	s.comfy.Plan = func(json.RawMessage) fakes.PromptPlan {
		if first { // the first run of the job outlives the process
			first = false
			return fakes.PromptPlan{RunTime: time.Minute}
		}
		return fakes.PromptPlan{OutputSize: 64}
	}

	// Run 1: a separate process, configured only through the environment (as
	// systemd does), with AWS endpoints from the SDK's standard variables.
	child := exec.Command(os.Args[0], s.fastFlags()...)
	child.Env = append(os.Environ(), "WORKER_CRASH_CHILD=1",
		"AWS_ACCESS_KEY_ID=AKIDFAKE", "AWS_SECRET_ACCESS_KEY=fake", "AWS_EC2_METADATA_SERVICE_ENDPOINT="+s.imds.Server.URL,
		"AWS_ENDPOINT_URL_AUTO_SCALING="+s.asg.Server.URL, "AWS_ENDPOINT_URL_SECRETS_MANAGER="+s.sm.Server.URL)
	for k, v := range s.vars() {
		child.Env = append(child.Env, k+"="+v)
	}
	logs := &syncBuffer{}
	child.Stderr = logs
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	defer child.Process.Kill()
	eventually(t, "child leased the job and is protected", func() bool {
		return s.backend.Job(id).State == fakes.Leased && s.asg.Protected(instanceID) && s.comfy.Prompts() == 1
	})
	if err := child.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = child.Wait()
	if _, err := os.Stat(s.tokenFile); err != nil {
		t.Fatalf("no persisted token after the crash: %v\n%s", err, logs.String())
	}

	// Run 2: same instance, same state dir.
	w := s.start(t)
	eventually(t, "job completed after restart", func() bool { return s.backend.Job(id).State == fakes.Completed })
	eventually(t, "protection cleared", func() bool { return !s.asg.Protected(instanceID) })
	j := s.backend.Job(id)
	if s.backend.Calls("register") != 1 {
		t.Fatalf("register called %d times: the restart must reuse the persisted token", s.backend.Calls("register"))
	}
	if len(j.Requeues) != 1 || j.Requeues[0] != "worker_restart" || j.Completions != 1 || j.Leases != 2 {
		t.Fatalf("job after restart: requeues %v completions %d leases %d", j.Requeues, j.Completions, j.Leases)
	}
	if !strings.Contains(w.logs.String(), "reusing persisted registration token") {
		t.Fatal("restart did not say it reused the token")
	}
	w.stop(t)
	checkLedger(t, s)
	checkProtectionCleared(t, s)
}
