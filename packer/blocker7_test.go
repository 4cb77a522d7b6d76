package packer_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bp/infra/bootcontract"
)

// Review blocker 7: the worker was copied into the Packer repo but never
// installed in /opt/worker, and the boot ran python3 instead of the AMI venv.
// This test fails if either comes back.
func TestBlocker7_WorkerInstalledUnderOptWorkerAndRunByVenvPython(t *testing.T) {
	t.Parallel()
	// system-facts section 7 fixes the location; bootcontract must keep it.
	const requiredWorkerHome = "/opt/worker"
	if bootcontract.WorkerHome != requiredWorkerHome || !strings.HasPrefix(bootcontract.WorkerBinary, requiredWorkerHome+"/") {
		t.Fatalf("bootcontract moved the worker to %s (%s); it must live in %s", bootcontract.WorkerHome, bootcontract.WorkerBinary, requiredWorkerHome)
	}
	if filepath.Dir(filepath.Dir(bootcontract.ComfyUIPython)) != bootcontract.ComfyUIVenv {
		t.Fatalf("ComfyUIPython %s is not the python of the venv %s", bootcontract.ComfyUIPython, bootcontract.ComfyUIVenv)
	}

	// The install script really puts the uploaded binary there, executable.
	root := t.TempDir()
	worker := workerBinary(t)
	installBootPath(t, root, worker)
	installed := filepath.Join(root, bootcontract.WorkerBinary)
	fi, err := os.Stat(installed)
	if err != nil {
		t.Fatalf("worker not installed at %s: %v", bootcontract.WorkerBinary, err)
	}
	if fi.Mode().Perm() != 0o755 || !fi.Mode().IsRegular() {
		t.Errorf("%s mode = %v, want a regular 0755 file", bootcontract.WorkerBinary, fi.Mode())
	}
	if out := mustRun(t, nil, installed, "check", "--offline"); out == "" {
		t.Log("worker check --offline printed nothing")
	}

	// The units systemd will run name the installed worker and the venv python.
	for _, name := range bootcontract.Units() {
		u := parseUnit(t, filepath.Join(root, "etc/systemd/system", name))
		exec := strings.Fields(u.one(t, "Service", "ExecStart"))[0]
		want := bootcontract.WorkerBinary
		switch name {
		case bootcontract.ComfyUIUnit:
			want = bootcontract.ComfyUIPython
		case bootcontract.IMDSBlockUnit:
			want = bootcontract.IMDSBlockScript
		}
		if exec != want {
			t.Errorf("%s runs %s, want %s", name, exec, want)
		}
	}
	// The template uploads make worker's artifact and runs install-worker.sh.
	tpl := parseTemplate(t)
	steps := provisionerSteps(t, tpl, fullContext(t, tpl))
	if stepIndex(steps, "upload:worker-linux-amd64") < 0 || stepIndex(steps, "script:install-worker.sh") < 0 {
		t.Errorf("the template no longer uploads and installs the worker; steps: %v", steps)
	}
}
