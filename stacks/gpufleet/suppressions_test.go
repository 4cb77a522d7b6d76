package gpufleet

import (
	"strings"
	"testing"

	"github.com/bp/infra/config"
	"github.com/bp/infra/naming"
)

// Each suppression names one fleet's construct or one function: a suppression
// on the whole Fleets subtree would also silence findings on any resource a
// later change adds below it.
func TestSuppressionsNameOneFleetOrFunction(t *testing.T) {
	cfg, _ := config.Preset("production")
	second := cfg.Fleets[0]
	second.Slug = "gpu-large"
	cfg.Fleets = append(cfg.Fleets, second)
	perFleet := map[string]int{}
	for _, s := range suppressions(cfg, naming.New(cfg.AppPrefix, cfg.Stage)) {
		if s.Path == fleetsID || strings.HasSuffix(s.Path, "/") {
			t.Errorf("suppression %s %q covers a whole subtree", s.Rule, s.Path)
		}
		if rest, ok := strings.CutPrefix(s.Path, fleetsID+"/"); ok {
			perFleet[strings.SplitN(rest, "/", 2)[0]]++
		}
	}
	if perFleet["gpu-default"] == 0 || perFleet["gpu-large"] != perFleet["gpu-default"] {
		t.Errorf("per-fleet suppressions %v: each fleet needs its own", perFleet)
	}
}
