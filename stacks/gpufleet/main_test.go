package gpufleet

import (
	"os"
	"testing"

	"github.com/aws/jsii-runtime-go"
)

// TestMain ends the jsii runtime the tests start, which removes the folder it
// unpacked itself into (one per test binary in the temp dir otherwise).
func TestMain(m *testing.M) {
	code := m.Run()
	jsii.Close()
	os.Exit(code)
}
