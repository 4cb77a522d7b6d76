package config

import (
	"strings"
	"testing"
)

// TestCapacityDefaults: a fleet entry starts with the fallback, the warm
// buffer and the paid volume initialization off, in both stages; turning one
// on needs only enabled=true (the other keys have working defaults).
func TestCapacityDefaults(t *testing.T) {
	f := DefaultFleet()
	if f.OnDemandFallback.Enabled || f.WarmBuffer.Enabled || f.RootVolumeInitRateMiBps != 0 {
		t.Fatalf("DefaultFleet turns on a paid capacity feature: %+v", f)
	}
	if f.OnDemandFallback.MaxInstances != 1 || f.OnDemandFallback.AfterMinutes != 3 || f.WarmBuffer.MinInstances != 1 {
		t.Fatalf("defaults for enabling = %+v / %+v", f.OnDemandFallback, f.WarmBuffer)
	}
	stages, err := Load(exampleContext())
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range stages {
		fb := s.Fleets[0].OnDemandFallback
		want := OnDemandFallback{Enabled: false, MaxInstances: 1, AfterMinutes: 3}
		if s.Stage == "production" { // jobs must not wait for Spot there
			want = OnDemandFallback{Enabled: true, MaxInstances: 2, AfterMinutes: 3}
		}
		if fb != want {
			t.Errorf("%s's fallback = %+v, want %+v", s.Stage, fb, want)
		}
	}
	ctx := exampleContext()
	stageSettings(ctx, "production")["fleets"] = []any{map[string]any{"slug": "gpu-default", "onDemandFallback": map[string]any{"enabled": true}}}
	stages, err = Load(with(ctx, "stage", "production"))
	if err != nil {
		t.Fatal(err)
	}
	if fb := stages[0].Fleets[0].OnDemandFallback; !fb.Enabled || fb.MaxInstances != 1 || fb.AfterMinutes != 3 {
		t.Errorf("enabled alone = %+v, want on, at most 1, after 3 minutes", fb)
	}
}

// TestCapacityKeysFromCdkJSON: the nested keys load from a fleet entry, and a
// misspelt one is rejected with the keys that exist.
func TestCapacityKeysFromCdkJSON(t *testing.T) {
	ctx := exampleContext()
	stageSettings(ctx, "staging")["fleets"] = []any{map[string]any{
		"slug":                    "gpu-default",
		"onDemandFallback":        map[string]any{"enabled": true, "maxInstances": 2, "afterMinutes": 5},
		"warmBuffer":              map[string]any{"enabled": true, "minInstances": 1, "startCron": "0 7 * * 1-5", "endCron": "0 19 * * 1-5"},
		"rootVolumeInitRateMiBps": 300,
	}}
	stages, err := Load(with(ctx, "stage", "staging"))
	if err != nil {
		t.Fatal(err)
	}
	f := stages[0].Fleets[0]
	if !f.OnDemandFallback.Enabled || f.OnDemandFallback.MaxInstances != 2 || f.OnDemandFallback.AfterMinutes != 5 ||
		!f.WarmBuffer.Enabled || f.WarmBuffer.StartCron != "0 7 * * 1-5" || f.RootVolumeInitRateMiBps != 300 {
		t.Fatalf("capacity keys not applied: %+v", f)
	}

	ctx = exampleContext()
	stageSettings(ctx, "staging")["fleets"] = []any{map[string]any{"slug": "gpu-default",
		"onDemandFallback": map[string]any{"enabled": true, "maxInstance": 2}}}
	_, err = Load(with(ctx, "stage", "staging"))
	if err == nil || !strings.Contains(err.Error(), `"stages.staging.fleets[0].onDemandFallback.maxInstance": not a setting`) ||
		!strings.Contains(err.Error(), "afterMinutes, enabled, maxInstances") {
		t.Fatalf("misspelt key: %v", err)
	}
}

// TestCapacityValidation: each bad value is reported with key, value and fix,
// all at once; disabled features are not checked.
func TestCapacityValidation(t *testing.T) {
	ctx := exampleContext()
	stageSettings(ctx, "staging")["fleets"] = []any{map[string]any{
		"slug": "gpu-default", "maxSize": 2,
		"onDemandFallback":        map[string]any{"enabled": true, "maxInstances": 3, "afterMinutes": 0},
		"warmBuffer":              map[string]any{"enabled": true, "minInstances": 0, "startCron": "8am", "endCron": "8am"},
		"rootVolumeInitRateMiBps": 50,
	}}
	_, err := Load(with(ctx, "stage", "staging"))
	if err == nil {
		t.Fatal("want errors")
	}
	for _, want := range []string{
		`fleets[0].onDemandFallback.maxInstances = "3": must be 1 to the fleet's maxSize (2)`,
		`fleets[0].onDemandFallback.afterMinutes = "0": must be between 1 and 60`,
		`fleets[0].warmBuffer.minInstances = "0": must be 1 to the fleet's maxSize (2)`,
		`fleets[0].warmBuffer.startCron = "8am": must be a 5-field UTC cron expression; fix: e.g. warmBuffer.startCron="0 8 * * 1-5"`,
		`fleets[0].warmBuffer.endCron = "8am": equals startCron`,
		`fleets[0].rootVolumeInitRateMiBps = "50": EBS accepts a volume initialization rate of 100 to 300 MiB/s; fix: set 0`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in:\n%v", want, err)
		}
	}

	ctx = exampleContext()
	stageSettings(ctx, "staging")["fleets"] = []any{map[string]any{"slug": "gpu-default", "onDemandPercent": 100,
		"onDemandFallback": map[string]any{"enabled": true}}}
	if _, err := Load(with(ctx, "stage", "staging")); err == nil || !strings.Contains(err.Error(), "onDemandFallback.enabled") {
		t.Errorf("fallback on an all-On-Demand fleet: %v", err)
	}

	ctx = exampleContext()
	stageSettings(ctx, "staging")["fleets"] = []any{map[string]any{"slug": "gpu-default", "maxSize": 1,
		"onDemandFallback": map[string]any{"enabled": false, "maxInstances": 99},
		"warmBuffer":       map[string]any{"enabled": false, "startCron": "x"}}}
	if _, err := Load(with(ctx, "stage", "staging")); err != nil {
		t.Errorf("disabled features must not be validated: %v", err)
	}
}
