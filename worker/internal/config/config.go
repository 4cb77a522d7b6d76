// Package config reads the worker's settings from its environment (the keys of
// bootcontract, which systemd passes from the env file) and flags, and checks
// them all at once so one start reports every problem.
package config

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/bp/infra/bootcontract"
)

// Config is everything the worker needs to run.
type Config struct {
	// From the environment file.
	APIBaseURL        string
	Stage             string
	FleetSlug         string
	ASGName           string
	FleetSecretARN    string
	FleetSecret       string
	Region            string
	ModelsBucket      string
	ActiveBundleParam string
	LogLevel          string
	ComfyUIURL        string
	MetricsEnabled    bool
	MetricsNamespace  string
	metricsRaw        string

	// From flags.
	EnvFile              string
	TokenFile            string
	PollInterval         time.Duration
	HeartbeatInterval    time.Duration
	LeaseTTL             time.Duration
	InterruptionInterval time.Duration
	JobTimeout           time.Duration
	ShutdownDeadline     time.Duration
	ComfyReadyTimeout    time.Duration
	ComfyDownTimeout     time.Duration
	RebalanceDrain       time.Duration
	RetryMax             time.Duration
}

// DefaultShutdownDeadline keeps notice-to-exit within 30 s: 24 s of shutdown
// plus up to 5 s until the next IMDS check sees the notice.
const DefaultShutdownDeadline = 24 * time.Second

// DefaultComfyDownTimeout: five minutes covers a ComfyUI restart that loads
// its models again; longer, and a fleet keeps an instance that cannot work.
const DefaultComfyDownTimeout = 5 * time.Minute

// DefaultRebalanceDrain: a rebalance recommendation usually comes minutes
// before an interruption (which the worker handles within 30 s anyway), and
// with capacity rebalancing the group replaces the instance soon after; ten
// minutes lets typical jobs finish without holding an at-risk instance for an
// hour-long one.
const DefaultRebalanceDrain = 10 * time.Minute

// Lookup reads one environment variable (os.LookupEnv in production).
type Lookup func(key string) (string, bool)

// AddFlags registers the worker's flags with their production defaults.
func (c *Config) AddFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.EnvFile, "env-file", "", "read settings missing from the environment from this file (systemd passes "+bootcontract.EnvFile+" as env vars)")
	fs.StringVar(&c.TokenFile, "token-file", bootcontract.WorkerTokenFile, "where the registration token is persisted (mode 0600)")
	fs.DurationVar(&c.PollInterval, "poll-interval", 3*time.Second, "wait between polls while idle")
	fs.DurationVar(&c.HeartbeatInterval, "heartbeat-interval", 60*time.Second, "heartbeat period while a job runs (well under the 900s lease)")
	fs.DurationVar(&c.LeaseTTL, "lease-ttl", 900*time.Second, "lease length granted by the backend")
	fs.DurationVar(&c.InterruptionInterval, "interruption-interval", 5*time.Second, "how often IMDS is checked for Spot, rebalance and scale-in notices")
	fs.DurationVar(&c.JobTimeout, "job-timeout", time.Hour, "longest a single job may run in ComfyUI")
	// 24 s: a notice is seen up to one interruption interval (5 s) late, and
	// notice-to-exit must stay under the 30 s the requirements allow.
	fs.DurationVar(&c.ShutdownDeadline, "shutdown-deadline", DefaultShutdownDeadline, "time to requeue, clear protection, deregister and publish the idle metric after a notice or SIGTERM (notice-to-exit = this + up to one -interruption-interval)")
	fs.DurationVar(&c.ComfyReadyTimeout, "comfyui-ready-timeout", 10*time.Minute, "how long to wait for ComfyUI /system_stats at start")
	fs.DurationVar(&c.ComfyDownTimeout, "comfyui-down-timeout", DefaultComfyDownTimeout, "how long ComfyUI may stop answering while the worker runs (no jobs are leased meanwhile) before the worker exits 1 so systemd restarts it and ComfyUI")
	fs.DurationVar(&c.RebalanceDrain, "rebalance-drain-timeout", DefaultRebalanceDrain, "after a rebalance recommendation, how long the running job may go on before it is requeued; no new job is taken either way")
	fs.DurationVar(&c.RetryMax, "retry-max", time.Minute, "cap of the exponential backoff of backend and AWS retries")
}

// LoadEnv fills the environment-file part of c from lookup, falling back to
// c.EnvFile's values (already parsed into fileVals) for unset keys.
func (c *Config) LoadEnv(lookup Lookup, fileVals map[string]string) {
	get := func(k string) string {
		if v, ok := lookup(k); ok {
			return strings.TrimSpace(v)
		}
		return strings.TrimSpace(fileVals[k])
	}
	c.APIBaseURL = strings.TrimRight(get(bootcontract.EnvAPIBaseURL), "/")
	c.Stage = get(bootcontract.EnvStage)
	c.FleetSlug = get(bootcontract.EnvFleetSlug)
	c.ASGName = get(bootcontract.EnvASGName)
	c.FleetSecretARN = get(bootcontract.EnvFleetSecretARN)
	c.FleetSecret = get(bootcontract.EnvFleetSecret)
	c.Region = get(bootcontract.EnvRegion)
	c.ModelsBucket = get(bootcontract.EnvModelsBucket)
	c.ActiveBundleParam = get(bootcontract.EnvActiveBundleParam)
	c.LogLevel = get(bootcontract.EnvLogLevel)
	c.ComfyUIURL = strings.TrimRight(get(bootcontract.EnvComfyUIURL), "/")
	if c.ComfyUIURL == "" {
		c.ComfyUIURL = bootcontract.ComfyUIURL
	}
	c.metricsRaw = get(bootcontract.EnvMetricsEnabled)
	c.MetricsEnabled = c.metricsRaw == "true"
	c.MetricsNamespace = get(bootcontract.EnvMetricsNamespace)
}

// SlogLevel maps WORKER_LOG_LEVEL to a slog level (info when unset).
func (c *Config) SlogLevel() slog.Level {
	switch c.LogLevel {
	case "debug":
		return slog.LevelDebug
	case "warn":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	}
	return slog.LevelInfo
}

var (
	slugPattern   = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,62}[a-z0-9])?$`)
	regionPattern = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-\d$`)
	arnPattern    = regexp.MustCompile(`^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+$`)
	bucketPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)
)

func problem(key, value, fix string) error {
	return fmt.Errorf("%s=%q: %s", key, value, fix)
}

// ValidateRun checks what the worker daemon and `worker check` need.
func (c *Config) ValidateRun() error {
	errs := []error{c.validateCommon()}
	if err := validateAPIURL(c.APIBaseURL); err != nil {
		errs = append(errs, err)
	}
	if c.Stage != "staging" && c.Stage != "production" {
		errs = append(errs, problem(bootcontract.EnvStage, c.Stage, "set it to staging or production"))
	}
	if !slugPattern.MatchString(c.FleetSlug) {
		errs = append(errs, problem(bootcontract.EnvFleetSlug, c.FleetSlug, "set the fleet slug, lower-case letters, digits and -, e.g. gpu-default"))
	}
	if c.ASGName == "" {
		errs = append(errs, problem(bootcontract.EnvASGName, c.ASGName, "set the name of this fleet's Auto Scaling group"))
	}
	switch {
	case c.FleetSecretARN == "" && c.FleetSecret == "":
		errs = append(errs, problem(bootcontract.EnvFleetSecretARN, "", "set the Secrets Manager ARN of the fleet secret (or "+bootcontract.EnvFleetSecret+" for local runs)"))
	case c.FleetSecretARN != "" && c.FleetSecret != "":
		errs = append(errs, problem(bootcontract.EnvFleetSecret, "(hidden)", "set only one of "+bootcontract.EnvFleetSecretARN+" and "+bootcontract.EnvFleetSecret))
	case c.FleetSecretARN != "" && !arnPattern.MatchString(c.FleetSecretARN):
		errs = append(errs, problem(bootcontract.EnvFleetSecretARN, c.FleetSecretARN, "use a full ARN, arn:aws:secretsmanager:<region>:<account>:secret:<name>"))
	}
	if c.HeartbeatInterval <= 0 || c.HeartbeatInterval > c.LeaseTTL/3 {
		errs = append(errs, fmt.Errorf("-heartbeat-interval=%s: must be positive and at most a third of the lease (%s) so two missed beats do not lose it", c.HeartbeatInterval, c.LeaseTTL))
	}
	for name, d := range map[string]time.Duration{"-poll-interval": c.PollInterval, "-interruption-interval": c.InterruptionInterval,
		"-job-timeout": c.JobTimeout, "-shutdown-deadline": c.ShutdownDeadline, "-comfyui-ready-timeout": c.ComfyReadyTimeout, "-retry-max": c.RetryMax,
		"-comfyui-down-timeout": c.ComfyDownTimeout, "-rebalance-drain-timeout": c.RebalanceDrain} {
		if d <= 0 {
			errs = append(errs, fmt.Errorf("%s=%s: must be a positive duration such as 3s", name, d))
		}
	}
	if c.TokenFile == "" {
		errs = append(errs, errors.New("-token-file is empty: give a path, default "+bootcontract.WorkerTokenFile))
	}
	return errors.Join(errs...)
}

// ValidateSyncBundle checks what `worker sync-bundle` needs.
func (c *Config) ValidateSyncBundle() error {
	errs := []error{c.validateCommon()}
	if !bucketPattern.MatchString(c.ModelsBucket) {
		errs = append(errs, problem(bootcontract.EnvModelsBucket, c.ModelsBucket, "set the models bucket name"))
	}
	if !strings.HasPrefix(c.ActiveBundleParam, "/") {
		errs = append(errs, problem(bootcontract.EnvActiveBundleParam, c.ActiveBundleParam, "set the SSM parameter name, /<app>/<stage>/fleets/<slug>/active_bundle"))
	}
	return errors.Join(errs...)
}

// validateCommon checks the keys every command reads.
func (c *Config) validateCommon() error {
	var errs []error
	if !regionPattern.MatchString(c.Region) {
		errs = append(errs, problem(bootcontract.EnvRegion, c.Region, "set the AWS region, e.g. us-east-1"))
	}
	switch c.LogLevel {
	case "", "debug", "info", "warn", "error":
	default:
		errs = append(errs, problem(bootcontract.EnvLogLevel, c.LogLevel, "use debug, info, warn or error"))
	}
	if c.metricsRaw != "" && c.metricsRaw != "true" && c.metricsRaw != "false" {
		errs = append(errs, problem(bootcontract.EnvMetricsEnabled, c.metricsRaw, "use true or false"))
	}
	if c.MetricsEnabled {
		switch c.MetricsNamespace {
		case "":
			errs = append(errs, problem(bootcontract.EnvMetricsNamespace, c.MetricsNamespace, "set the stage's worker namespace, e.g. "+bootcontract.WorkerMetricsNamespace("bp", "staging")+", or "+bootcontract.EnvMetricsEnabled+"=false"))
		case bootcontract.MetricsNamespace:
			errs = append(errs, problem(bootcontract.EnvMetricsNamespace, c.MetricsNamespace, "is the backend's scaling namespace, which workers may not write; use "+bootcontract.WorkerMetricsNamespace("bp", "staging")))
		}
	}
	if u, err := url.Parse(c.ComfyUIURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, problem(bootcontract.EnvComfyUIURL, c.ComfyUIURL, "use an http URL such as "+bootcontract.ComfyUIURL+", or leave it unset"))
	}
	return errors.Join(errs...)
}

// validateAPIURL accepts the scheme the ALB serves: https normally, http only
// where the stage explicitly allows plain HTTP (the stack writes the URL and
// opens the matching port; a worker that insisted on https there would
// recreate review blocker 3 from the other side).
func validateAPIURL(v string) error {
	u, err := url.Parse(v)
	if v == "" || err != nil || u.Host == "" {
		return problem(bootcontract.EnvAPIBaseURL, v, "set the backend base URL, e.g. https://api.example.com")
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		return problem(bootcontract.EnvAPIBaseURL, v, "use https:// (or http:// for a stage that serves plain HTTP)")
	}
	return nil
}
