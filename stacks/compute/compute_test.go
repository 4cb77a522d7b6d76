package compute

import (
	"testing"

	"github.com/bp/infra/config"
	"github.com/bp/infra/stacks/base"
)

// TestImageTagsFollowThePipeline: the moving tags by default, the pinned
// build with -c imageTag=<sha7> (system-facts section 1).
func TestImageTagsFollowThePipeline(t *testing.T) {
	cases := []struct{ prefix, pinned, want string }{
		{"nginx-", "", "nginx-latest"},
		{"php-", "", "php-latest"},
		{"", "", "latest"},
		{"nginx-", "abc1234", "nginx-abc1234"},
		{"php-", "abc1234", "php-abc1234"},
		{"", "abc1234", "abc1234"},
	}
	for _, c := range cases {
		if got := imageTag(c.prefix, c.pinned); got != c.want {
			t.Errorf("imageTag(%q, %q) = %q, want %q", c.prefix, c.pinned, got, c.want)
		}
	}
}

// TestFirstDeployStartsServicesAtZero: with cluster.servicesStartAtZero the
// services wait at desired 0 until the pipeline has pushed images.
func TestFirstDeployStartsServicesAtZero(t *testing.T) {
	cfg, _ := config.Preset("production")
	if got := desiredCount(cfg, cfg.Backend); got != cfg.Backend.DesiredCount {
		t.Fatalf("desired = %d, want the configured %d", got, cfg.Backend.DesiredCount)
	}
	cfg.Cluster.ServicesStartAtZero = true
	if got := desiredCount(cfg, cfg.Backend); got != 0 {
		t.Fatalf("desired = %d with servicesStartAtZero, want 0", got)
	}
}

// TestRetentionCoversEveryAcceptedValue: every retention config accepts maps
// to a CDK value (retention panics otherwise).
func TestRetentionCoversEveryAcceptedValue(t *testing.T) {
	for _, days := range config.LogRetentionDays() {
		cfg, _ := config.Preset("staging")
		cfg.LogRetentionDays = days
		cfg.Account, cfg.Owner, cfg.DomainName = "111111111111", "x", "a.example.com"
		cfg.AllowHTTPOnly = true
		if err := config.Validate(cfg); err != nil {
			t.Fatalf("config rejects %d: %v", days, err)
		}
		_ = base.Retention(days)
	}
}
