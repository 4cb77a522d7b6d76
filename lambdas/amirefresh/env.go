package amirefresh

import (
	"encoding/json"
	"fmt"
	"strings"
)

// fleet is one entry of FLEETS: a fleet whose AMI comes from a parameter.
type fleet struct {
	Slug         string `json:"slug"`
	ASGName      string `json:"asgName"`
	AmiParameter string `json:"amiParameter"`
}

type environment struct {
	Stage  string
	Fleets []fleet
}

func loadEnv(getenv func(string) string) (environment, error) {
	env := environment{Stage: getenv("STAGE")}
	if env.Stage == "" {
		return environment{}, fmt.Errorf("STAGE is required")
	}
	raw := getenv("FLEETS")
	if raw == "" {
		return environment{}, fmt.Errorf(`FLEETS is required (JSON [{"slug","asgName","amiParameter"}])`)
	}
	if err := json.Unmarshal([]byte(raw), &env.Fleets); err != nil {
		return environment{}, fmt.Errorf("FLEETS is not a JSON list of {slug, asgName, amiParameter}: %w", err)
	}
	for i, f := range env.Fleets {
		if f.Slug == "" || f.ASGName == "" || !strings.HasPrefix(f.AmiParameter, "/") {
			return environment{}, fmt.Errorf("FLEETS[%d] needs slug, asgName and an amiParameter starting with /", i)
		}
	}
	return env, nil
}
