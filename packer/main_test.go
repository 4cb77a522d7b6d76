package packer_test

import (
	"os"
	"path/filepath"
	"testing"
)

// Tests that run programs call t.Parallel: each owns its temp tree (or its
// network and mount namespaces), and they spend most of their time waiting
// on subprocesses. No jsii here.
//
// TestMain starts the worker build and moto_server at once, so they overlap
// the tests that need neither instead of holding up the first parallel tests
// that do, and removes what the shared fixtures left behind.
func TestMain(m *testing.M) {
	go workerOnce.Do(buildWorker)
	motoShared.Prestart()
	code := m.Run()
	stopWorkerBuild()        // a build no test asked for is not worth finishing
	workerOnce.Do(func() {}) // waits for it to end
	if workerPath != "" {
		os.RemoveAll(filepath.Dir(workerPath))
	}
	if healthyBase.parent != "" {
		os.RemoveAll(healthyBase.parent)
	}
	motoShared.Stop()
	os.Exit(code)
}
