package scaletozero

import (
	"encoding/json"
	"fmt"
)

// environment is the function's configuration.
type environment struct {
	Stage     string
	FleetASGs map[string]string // fleet slug -> ASG name, this stage's fleets only
}

func loadEnv(getenv func(string) string) (environment, error) {
	env := environment{Stage: getenv("STAGE")}
	if env.Stage == "" {
		return environment{}, fmt.Errorf("STAGE is required")
	}
	raw := getenv("FLEET_ASGS")
	if raw == "" {
		return environment{}, fmt.Errorf("FLEET_ASGS is required (JSON object fleet slug -> ASG name)")
	}
	if err := json.Unmarshal([]byte(raw), &env.FleetASGs); err != nil {
		return environment{}, fmt.Errorf("FLEET_ASGS is not a JSON object of strings: %w", err)
	}
	for slug, asg := range env.FleetASGs {
		if slug == "" || asg == "" {
			return environment{}, fmt.Errorf("FLEET_ASGS has an empty slug or ASG name (%q: %q)", slug, asg)
		}
	}
	return env, nil
}
