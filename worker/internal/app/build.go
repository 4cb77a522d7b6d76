// Package app wires configuration, AWS clients and the worker's packages
// into a runnable worker.
package app

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/bp/infra/worker/internal/awsclients"
	"github.com/bp/infra/worker/internal/backend"
	"github.com/bp/infra/worker/internal/comfyui"
	"github.com/bp/infra/worker/internal/config"
	"github.com/bp/infra/worker/internal/interruption"
	"github.com/bp/infra/worker/internal/metrics"
	"github.com/bp/infra/worker/internal/protection"
	"github.com/bp/infra/worker/internal/registration"
	"github.com/bp/infra/worker/internal/retry"
	"github.com/bp/infra/worker/internal/runner"
	"github.com/bp/infra/worker/internal/state"
)

// ComfyLostAfter is how long ComfyUI may not answer while it runs a prompt
// before the prompt counts as lost: ComfyUI keeps its queue in memory, so a
// ComfyUI that is down has lost the prompt, and 30 s rides out a slow reply.
const ComfyLostAfter = 30 * time.Second

// Capabilities the worker announces.
var Capabilities = []string{"comfyui"}

// backoff derives a retry policy from the configured cap: the first wait is a
// sixtieth of it (1 s for the 1 min default).
func backoff(max time.Duration) retry.Policy {
	return retry.Policy{Initial: max / 60, Max: max, Multiplier: 2, Jitter: 0.5}
}

func httpClient(timeout time.Duration) *http.Client {
	return &http.Client{Timeout: timeout, Transport: &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConnsPerHost:   4,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: 60 * time.Second,
	}}
}

// NewRunner builds the worker from a validated config.
func NewRunner(ctx context.Context, cfg *config.Config, cl awsclients.Clients, log *slog.Logger) (*runner.Runner, error) {
	idCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	instanceID, err := interruption.InstanceID(idCtx, cl.IMDS)
	if err != nil {
		return nil, fmt.Errorf("read this instance's id from IMDS (the worker id): %w", err)
	}
	log = log.With("worker_id", instanceID, "fleet_slug", cfg.FleetSlug, "stage", cfg.Stage)
	pol := backoff(cfg.RetryMax)
	bc := &backend.Client{BaseURL: cfg.APIBaseURL, HTTP: httpClient(90 * time.Second), Retry: pol, Log: log}
	host, _ := os.Hostname()
	reg := &registration.Registrar{
		Backend: bc,
		Store:   state.TokenStore{Path: cfg.TokenFile},
		Secret:  FleetSecret(cfg.FleetSecret, cfg.FleetSecretARN, cl.SecretsManager),
		Request: backend.RegisterRequest{WorkerID: instanceID, DisplayName: displayName(cfg.FleetSlug, instanceID, host),
			Capabilities: Capabilities, MaxConcurrency: 1, FleetSlug: cfg.FleetSlug, Stage: cfg.Stage},
		Retry: pol,
		Log:   log,
	}
	guard := protection.NewGuard(protection.ASG{API: cl.AutoScaling, GroupName: cfg.ASGName, InstanceID: instanceID},
		pol, log, false, false)
	var busy *metrics.Busy
	if cfg.MetricsEnabled {
		busy = &metrics.Busy{API: cl.CloudWatch, Namespace: cfg.MetricsNamespace, FleetSlug: cfg.FleetSlug, Stage: cfg.Stage, Refresh: time.Minute, Log: log}
	}
	r := &runner.Runner{
		Settings: runner.Settings{
			WorkerID: instanceID, Capabilities: Capabilities,
			PollInterval: cfg.PollInterval, HeartbeatInterval: cfg.HeartbeatInterval, LeaseTTL: cfg.LeaseTTL,
			JobTimeout: cfg.JobTimeout, ShutdownDeadline: cfg.ShutdownDeadline, ComfyReadyTimeout: cfg.ComfyReadyTimeout,
			HistoryInterval:    min(time.Second, cfg.PollInterval),
			ErrorBackoff:       pol,
			TransferRetry:      retry.Policy{Initial: pol.Initial, Max: pol.Max, Multiplier: 2, Jitter: 0.5, MaxAttempts: 4},
			ProtectionTimeout:  cfg.ShutdownDeadline,
			ComfyDownTimeout:   cfg.ComfyDownTimeout,
			ComfyProbeInterval: time.Second,
			ComfyLostAfter:     ComfyLostAfter,
			RebalanceDrain:     cfg.RebalanceDrain,
		},
		Backend:    bc,
		Registrar:  reg,
		Comfy:      &comfyui.Client{BaseURL: cfg.ComfyUIURL, HTTP: httpClient(0)},
		Protection: guard,
		Watcher:    &interruption.Watcher{IMDS: cl.IMDS, Interval: cfg.InterruptionInterval, Log: log},
		Metrics:    busy,
		Runtime:    state.RuntimeStore{Path: state.RuntimePathBeside(cfg.TokenFile)},
		Transfer:   httpClient(0),
		Log:        log,
	}
	// The guard starts as "off": the runtime file of a previous run says when
	// protection may still be on (recorded before every call that turns it on).
	guard.OnChange = r.ProtectionChanged
	guard.BeforeCall = r.ProtectionMayChange
	return r, nil
}

func displayName(slug, id, host string) string {
	if host == "" || strings.HasPrefix(host, "ip-") {
		return slug + "/" + id
	}
	return slug + "/" + host
}
