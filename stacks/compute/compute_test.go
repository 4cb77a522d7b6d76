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
