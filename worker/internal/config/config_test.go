package config

import (
	"flag"
	"strings"
	"testing"
	"time"

	"github.com/bp/infra/bootcontract"
)

func validEnv() map[string]string {
	return map[string]string{
		bootcontract.EnvAPIBaseURL:        "https://api.example.com/",
		bootcontract.EnvStage:             "staging",
		bootcontract.EnvFleetSlug:         "gpu-default",
		bootcontract.EnvASGName:           "asg-staging-gpu-default",
		bootcontract.EnvFleetSecretARN:    "arn:aws:secretsmanager:us-east-1:123456789012:secret:fleet-AbCd",
		bootcontract.EnvRegion:            "us-east-1",
		bootcontract.EnvModelsBucket:      "bp-staging-models",
		bootcontract.EnvActiveBundleParam: "/bp/staging/fleets/gpu-default/active_bundle",
	}
}

func load(t *testing.T, env map[string]string, args ...string) *Config {
	t.Helper()
	c := &Config{}
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	c.AddFlags(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	c.LoadEnv(func(k string) (string, bool) { v, ok := env[k]; return v, ok }, nil)
	return c
}

func TestValidConfigPasses(t *testing.T) {
	c := load(t, validEnv())
	if err := c.ValidateRun(); err != nil {
		t.Fatal(err)
	}
	if err := c.ValidateSyncBundle(); err != nil {
		t.Fatal(err)
	}
	if c.APIBaseURL != "https://api.example.com" || c.ComfyUIURL != bootcontract.ComfyUIURL || c.HeartbeatInterval.Seconds() != 60 {
		t.Fatalf("defaults not applied: %+v", c)
	}
}

func TestAllProblemsReportedAtOnceWithKeyValueAndFix(t *testing.T) {
	env := validEnv()
	env[bootcontract.EnvAPIBaseURL] = "ftp://api.example.com"
	env[bootcontract.EnvStage] = "prod"
	env[bootcontract.EnvRegion] = "useast"
	env[bootcontract.EnvMetricsEnabled] = "yes"
	c := load(t, env, "-heartbeat-interval=10m")
	err := c.ValidateRun()
	if err == nil {
		t.Fatal("want errors")
	}
	msg := err.Error()
	for _, want := range []string{
		`WORKER_API_BASE_URL="ftp://api.example.com": use https://`,
		`WORKER_STAGE="prod": set it to staging or production`,
		`AWS_REGION="useast"`,
		`WORKER_METRICS_ENABLED="yes": use true or false`,
		`-heartbeat-interval=10m0s`,
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q:\n%s", want, msg)
		}
	}
}

func TestSecretChoiceAndLoopbackHTTP(t *testing.T) {
	env := validEnv()
	delete(env, bootcontract.EnvFleetSecretARN)
	if err := load(t, env).ValidateRun(); err == nil || !strings.Contains(err.Error(), "WORKER_FLEET_SECRET_ARN") {
		t.Fatalf("missing secret not reported: %v", err)
	}
	env[bootcontract.EnvFleetSecret] = "s3cr3t"
	env[bootcontract.EnvAPIBaseURL] = "http://127.0.0.1:8080"
	if err := load(t, env).ValidateRun(); err != nil {
		t.Fatalf("local config refused: %v", err)
	}
	if err := load(t, env).ValidateRun(); err != nil && strings.Contains(err.Error(), "s3cr3t") {
		t.Fatal("the secret value must never appear in errors")
	}
}

func TestParseEnvFile(t *testing.T) {
	good := "# written by user data\nWORKER_STAGE=staging\nWORKER_FLEET_SLUG='gpu-default'\n\nAWS_REGION=\"us-east-1\"\n"
	vals, err := ParseEnvFile(strings.NewReader(good), "worker.env")
	if err != nil || vals["WORKER_FLEET_SLUG"] != "gpu-default" || vals["AWS_REGION"] != "us-east-1" {
		t.Fatalf("vals=%v err=%v", vals, err)
	}
	bad := "WORKER_STAGE staging\nWORKER_STAEG=x\nWORKER_FLEET_SLUG=\"open\n"
	_, err = ParseEnvFile(strings.NewReader(bad), "worker.env")
	if err == nil {
		t.Fatal("want errors")
	}
	for _, want := range []string{"worker.env:1:", "worker.env:2: unknown key \"WORKER_STAEG\"", "worker.env:3:"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}

// TestPlainHTTPFollowsAnHTTPOnlyStage: a stage that explicitly serves plain
// HTTP writes an http:// base URL; the worker must accept it (blocker 3).
func TestPlainHTTPFollowsAnHTTPOnlyStage(t *testing.T) {
	env := validEnv()
	env[bootcontract.EnvAPIBaseURL] = "http://staging.example.com"
	if err := load(t, env).ValidateRun(); err != nil {
		t.Fatalf("http:// base URL rejected: %v", err)
	}
}

func TestDefaultShutdownFitsTheThirtySecondNoticeBudget(t *testing.T) {
	c := load(t, validEnv())
	if total := c.ShutdownDeadline + c.InterruptionInterval; total >= 30*time.Second {
		t.Fatalf("shutdown deadline %s + interruption interval %s = %s: a notice must lead to exit within 30 s",
			c.ShutdownDeadline, c.InterruptionInterval, total)
	}
}

func TestComfyDownAndRebalanceDrainFlags(t *testing.T) {
	c := load(t, validEnv())
	if c.ComfyDownTimeout != 5*time.Minute || c.RebalanceDrain != 10*time.Minute {
		t.Fatalf("defaults: -comfyui-down-timeout %s, -rebalance-drain-timeout %s", c.ComfyDownTimeout, c.RebalanceDrain)
	}
	c = load(t, validEnv(), "-comfyui-down-timeout=0s", "-rebalance-drain-timeout=-1s")
	err := c.ValidateRun()
	for _, want := range []string{"-comfyui-down-timeout=0s: must be a positive duration", "-rebalance-drain-timeout=-1s: must be a positive duration"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
}

// The worker publishes only into its stage's own namespace: the backend's
// ComfyUI/Workers (QueueDepth drives the scaling) is refused, as is none.
func TestMetricsNamespaceIsTheWorkersOwn(t *testing.T) {
	for ns, want := range map[string]string{
		"":                      `WORKER_METRICS_NAMESPACE="": set the stage's worker namespace`,
		"ComfyUI/Workers":       `WORKER_METRICS_NAMESPACE="ComfyUI/Workers": is the backend's scaling namespace`,
		"bp/staging/gpu-worker": "",
	} {
		env := validEnv()
		env[bootcontract.EnvMetricsEnabled] = "true"
		env[bootcontract.EnvMetricsNamespace] = ns
		err := load(t, env).ValidateRun()
		switch {
		case want == "" && err != nil:
			t.Errorf("namespace %q refused: %v", ns, err)
		case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
			t.Errorf("namespace %q: error %v, want %q", ns, err, want)
		}
	}
}
