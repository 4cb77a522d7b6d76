package spotfallback

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/bp/infra/bootcontract"
)

// fleet is one entry of FLEETS: a fleet whose fallback is enabled.
type fleet struct {
	Slug    string `json:"slug"`
	ASGName string `json:"asgName"`
	// MaxInstances is the On-Demand base capacity while the fallback lasts.
	MaxInstances int `json:"maxInstances"`
	// AfterMinutes: queue non-empty and Spot failing this long before the
	// fallback; also the shortest stay in either state.
	AfterMinutes int `json:"afterMinutes"`
	// ScaleToZeroMinutes: an empty queue this long ends the fallback.
	ScaleToZeroMinutes int `json:"scaleToZeroMinutes"`
	// BaseCapacity is the template's OnDemandBaseCapacity, restored at the end.
	BaseCapacity int `json:"baseCapacity"`
}

// window is how many minutes of QueueDepth a decision may need.
func (f fleet) window() int { return max(f.AfterMinutes, f.ScaleToZeroMinutes) }

// environment is the function's configuration.
type environment struct {
	Stage           string
	Fleets          []fleet
	MetricNamespace string
	AlertTopicArn   string
	// StateTag is the ASG tag holding the fallback state, e.g. "bp:on-demand-fallback".
	StateTag string
}

var reTagKey = regexp.MustCompile(`^[a-z][a-z0-9]*:[a-z0-9-]+$`)

func loadEnv(getenv func(string) string) (environment, error) {
	env := environment{
		Stage:           getenv("STAGE"),
		MetricNamespace: getenv("METRIC_NAMESPACE"),
		AlertTopicArn:   getenv("ALERT_TOPIC_ARN"),
		StateTag:        getenv("STATE_TAG"),
	}
	if env.Stage == "" {
		return environment{}, fmt.Errorf("STAGE is required")
	}
	if env.AlertTopicArn == "" {
		return environment{}, fmt.Errorf("ALERT_TOPIC_ARN is required")
	}
	if env.MetricNamespace == "" {
		env.MetricNamespace = bootcontract.MetricsNamespace
	}
	// Tag keys starting with aws: are reserved for AWS.
	if !reTagKey.MatchString(env.StateTag) || strings.HasPrefix(env.StateTag, "aws:") {
		return environment{}, fmt.Errorf("STATE_TAG %q must be a tag key like bp:on-demand-fallback", env.StateTag)
	}
	raw := getenv("FLEETS")
	if raw == "" {
		return environment{}, fmt.Errorf(`FLEETS is required (JSON [{"slug","asgName","maxInstances","afterMinutes","scaleToZeroMinutes","baseCapacity"}])`)
	}
	if err := json.Unmarshal([]byte(raw), &env.Fleets); err != nil {
		return environment{}, fmt.Errorf("FLEETS is not a JSON list of fleets: %w", err)
	}
	for i, f := range env.Fleets {
		switch {
		case f.Slug == "" || f.ASGName == "":
			return environment{}, fmt.Errorf("FLEETS[%d] needs slug and asgName", i)
		case f.MaxInstances < 1:
			return environment{}, fmt.Errorf("FLEETS[%d].maxInstances %d must be at least 1", i, f.MaxInstances)
		case f.AfterMinutes < 1 || f.AfterMinutes > 60:
			return environment{}, fmt.Errorf("FLEETS[%d].afterMinutes %d must be 1 to 60", i, f.AfterMinutes)
		case f.ScaleToZeroMinutes < 1 || f.ScaleToZeroMinutes > 1440:
			return environment{}, fmt.Errorf("FLEETS[%d].scaleToZeroMinutes %d must be 1 to 1440", i, f.ScaleToZeroMinutes)
		case f.BaseCapacity < 0 || f.BaseCapacity >= f.MaxInstances:
			return environment{}, fmt.Errorf("FLEETS[%d].baseCapacity %d must be 0 to maxInstances-1", i, f.BaseCapacity)
		}
	}
	return env, nil
}
