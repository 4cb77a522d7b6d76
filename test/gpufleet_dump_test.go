package test

import (
	"encoding/json"
	"os"
	"testing"
)

// TestGpuFleetDump writes the GpuFleet templates for inspection (temporary).
func TestGpuFleetDump(t *testing.T) {
	for _, b := range all() {
		for _, kind := range []string{"gpu-fleet", "network", "compute"} {
			buf, _ := json.MarshalIndent(b.templates[kind], "", " ")
			os.WriteFile("/tmp/gf-"+b.label+"-"+kind+".json", buf, 0o644)
		}
		t.Logf("%s nag: %v", b.label, b.nag["gpu-fleet"])
	}
}
