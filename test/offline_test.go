package test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// TestSynthesisNeedsNoLookups: no stage asks CDK for context it would have to
// fetch with AWS credentials (a missing entry makes `cdk synth` call AWS, or
// fall back to dummy values, and run the app twice).
func TestSynthesisNeedsNoLookups(t *testing.T) {
	for _, b := range all() {
		var dir string
		must(t, b.label+" synth", func() { dir = *b.stage.Stage.Synth(nil).Directory() })
		raw, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
		if err != nil {
			t.Fatal(err)
		}
		var manifest struct {
			Missing []struct {
				Key string `json:"key"`
			} `json:"missing"`
		}
		if err := json.Unmarshal(raw, &manifest); err != nil {
			t.Fatal(err)
		}
		for _, m := range manifest.Missing {
			t.Errorf("%s: synthesis needs a lookup: %s", b.label, m.Key)
		}
	}
}
