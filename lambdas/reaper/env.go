package reaper

import (
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/bp/infra/bootcontract"
)

// fleet is one entry of FLEETS.
type fleet struct {
	Slug    string `json:"slug"`
	ASGName string `json:"asgName"`
	// IdleLimitMinutes is this fleet's window; 0 means IDLE_LIMIT_MINUTES.
	IdleLimitMinutes int `json:"idleLimitMinutes,omitempty"`
}

// idleMinutes is the idle window of one fleet.
func (e environment) idleMinutes(f fleet) int {
	if f.IdleLimitMinutes > 0 {
		return f.IdleLimitMinutes
	}
	return e.IdleMinutes
}

// environment is the function's configuration.
type environment struct {
	Stage           string
	Fleets          []fleet
	MetricNamespace string
	IdleMinutes     int
	AlertTopicArn   string
}

func loadEnv(getenv func(string) string) (environment, error) {
	env := environment{
		Stage:           getenv("STAGE"),
		MetricNamespace: getenv("METRIC_NAMESPACE"),
		AlertTopicArn:   getenv("ALERT_TOPIC_ARN"),
		IdleMinutes:     30,
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
	if raw := getenv("IDLE_LIMIT_MINUTES"); raw != "" {
		n, err := strconv.Atoi(raw)
		// Below 5 minutes a short pause between jobs would look idle.
		if err != nil || n < 5 || n > 1440 {
			return environment{}, fmt.Errorf("IDLE_LIMIT_MINUTES %q must be a whole number of minutes from 5 to 1440", raw)
		}
		env.IdleMinutes = n
	}
	raw := getenv("FLEETS")
	if raw == "" {
		return environment{}, fmt.Errorf(`FLEETS is required (JSON [{"slug":"...","asgName":"..."}])`)
	}
	if err := json.Unmarshal([]byte(raw), &env.Fleets); err != nil {
		return environment{}, fmt.Errorf("FLEETS is not a JSON list of {slug, asgName}: %w", err)
	}
	for i, f := range env.Fleets {
		if f.Slug == "" || f.ASGName == "" {
			return environment{}, fmt.Errorf("FLEETS[%d] needs slug and asgName", i)
		}
		if f.IdleLimitMinutes != 0 && (f.IdleLimitMinutes < 5 || f.IdleLimitMinutes > 1440) {
			return environment{}, fmt.Errorf("FLEETS[%d].idleLimitMinutes %d must be from 5 to 1440", i, f.IdleLimitMinutes)
		}
	}
	return env, nil
}
