package packer_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bp/infra/bootcontract"
)

func selfCheck(t *testing.T, root string, extraEnv ...string) result {
	t.Helper()
	return run(t, append(bootEnv(), extraEnv...), script(t, "self-check.sh"), "--root", root, "--no-gpu")
}

func TestSelfCheck_PassesOnAHealthyImage(t *testing.T) {
	t.Parallel()
	root := healthyRoot(t)
	r := selfCheck(t, root)
	if r.err != nil {
		t.Fatalf("self-check failed on a healthy tree: %v\n%s", r.err, r.out)
	}
	for _, want := range []string{"worker binary", "venv python", "systemd-analyze verify", "worker check --offline",
		"log folder " + bootcontract.LogDir, "logrotate config", "CloudWatch agent " + bootcontract.CloudWatchAgentBinary,
		"comfyui and comfyui-worker are separate users", "IMDS block " + bootcontract.IMDSBlockScript,
		bootcontract.ComfyUIUnit + " requires " + bootcontract.IMDSBlockUnit, bootcontract.WorkerStateDir + " closed to comfyui"} {
		if !strings.Contains(r.out, "self-check ok: "+want) {
			t.Errorf("self-check did not report %q:\n%s", want, r.out)
		}
	}
}

// Each defect alone must fail the build, with a message naming it.
func TestSelfCheck_FailsTheBuild(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		breakIt func(t *testing.T, root string)
		env     []string
		message string
	}{
		{
			name: "worker binary missing",
			breakIt: func(t *testing.T, root string) {
				must(t, os.Remove(filepath.Join(root, bootcontract.WorkerBinary)))
			},
			message: "worker binary " + bootcontract.WorkerBinary + " is missing",
		},
		{
			name: "worker check --offline fails",
			breakIt: func(t *testing.T, root string) {
				writeFile(t, filepath.Join(root, bootcontract.WorkerBinary), "#!/bin/sh\necho broken config >&2\nexit 3\n", 0o755)
			},
			message: "worker check --offline: broken config",
		},
		{
			name: "venv python missing",
			breakIt: func(t *testing.T, root string) {
				must(t, os.RemoveAll(filepath.Join(root, bootcontract.ComfyUIVenv)))
			},
			message: "venv python " + bootcontract.ComfyUIPython + " is missing",
		},
		{
			name: "venv python is the system python",
			breakIt: func(t *testing.T, root string) {
				py := filepath.Join(root, bootcontract.ComfyUIPython)
				sys := strings.TrimSpace(mustRun(t, nil, "python3", "-c", "import os, sys; print(os.path.realpath(sys.executable))"))
				must(t, os.RemoveAll(filepath.Join(root, bootcontract.ComfyUIVenv)))
				must(t, os.MkdirAll(filepath.Dir(py), 0o755))
				must(t, os.Symlink(sys, py)) // no pyvenv.cfg: sys.prefix is the system's
			},
			message: "has sys.prefix",
		},
		{
			name: "a unit missing",
			breakIt: func(t *testing.T, root string) {
				must(t, os.Remove(filepath.Join(root, "etc/systemd/system", bootcontract.BundleSyncUnit)))
			},
			message: "unit " + bootcontract.BundleSyncUnit + " is missing",
		},
		{
			name: "comfyui.service uses the system python3",
			breakIt: func(t *testing.T, root string) {
				editFile(t, filepath.Join(root, "etc/systemd/system", bootcontract.ComfyUIUnit),
					"ExecStart="+bootcontract.ComfyUIPython, "ExecStart=/usr/bin/python3")
			},
			message: "does not run " + bootcontract.ComfyUIPython,
		},
		{
			name: "a unit systemd rejects",
			breakIt: func(t *testing.T, root string) {
				// systemd refuses Restart=always on a oneshot unit.
				editFile(t, filepath.Join(root, "etc/systemd/system", bootcontract.BundleSyncUnit),
					"RemainAfterExit=yes", "RemainAfterExit=yes\nRestart=always")
			},
			message: "systemd-analyze verify",
		},
		{
			name: "units enabled in the AMI",
			breakIt: func(t *testing.T, root string) {
				wants := filepath.Join(root, "etc/systemd/system/multi-user.target.wants")
				must(t, os.MkdirAll(wants, 0o755))
				must(t, os.Symlink("/etc/systemd/system/"+bootcontract.WorkerUnit, filepath.Join(wants, bootcontract.WorkerUnit)))
			},
			message: "is enabled in the AMI",
		},
		{
			name: "CloudWatch agent missing",
			breakIt: func(t *testing.T, root string) {
				must(t, os.RemoveAll(filepath.Join(root, filepath.Dir(bootcontract.CloudWatchAgentBinary))))
			},
			message: "CloudWatch agent " + bootcontract.CloudWatchAgentBinary + " is missing",
		},
		{
			name: "log folder missing",
			breakIt: func(t *testing.T, root string) {
				must(t, os.RemoveAll(filepath.Join(root, bootcontract.LogDir)))
			},
			message: "log folder " + bootcontract.LogDir + " is missing",
		},
		{
			name: "no logrotate config",
			breakIt: func(t *testing.T, root string) {
				must(t, os.RemoveAll(filepath.Join(root, "etc/logrotate.d")))
			},
			message: "no logrotate config",
		},
		{
			name: "a unit logs to the journal only",
			breakIt: func(t *testing.T, root string) {
				editFile(t, filepath.Join(root, "etc/systemd/system", bootcontract.WorkerUnit),
					"StandardOutput=append:", "StandardOutput=journal\n#")
			},
			message: bootcontract.WorkerUnit + " does not append its output to " + bootcontract.LogDir,
		},
		{
			name: "ComfyUI runs as the worker's user",
			breakIt: func(t *testing.T, root string) {
				editFile(t, filepath.Join(root, "etc/systemd/system", bootcontract.ComfyUIUnit), "User="+bootcontract.ComfyUIUser, "User="+bootcontract.WorkerUser)
			},
			message: bootcontract.ComfyUIUnit + " runs as '" + bootcontract.WorkerUser + "', want '" + bootcontract.ComfyUIUser + "'",
		},
		{
			name: "ComfyUI no longer requires the IMDS block",
			breakIt: func(t *testing.T, root string) {
				editFile(t, filepath.Join(root, "etc/systemd/system", bootcontract.ComfyUIUnit), "Requires="+bootcontract.IMDSBlockUnit, "Wants="+bootcontract.IMDSBlockUnit)
			},
			message: bootcontract.ComfyUIUnit + " does not require and follow " + bootcontract.IMDSBlockUnit,
		},
		{
			name: "IMDS block missing",
			breakIt: func(t *testing.T, root string) {
				must(t, os.Remove(filepath.Join(root, bootcontract.IMDSBlockScript)))
			},
			message: "IMDS block " + bootcontract.IMDSBlockScript + " is missing",
		},
		{
			name: "IMDS block no longer names ComfyUI's user",
			breakIt: func(t *testing.T, root string) {
				editFile(t, filepath.Join(root, bootcontract.IMDSBlockScript), "--uid-owner "+bootcontract.ComfyUIUser, "--uid-owner nobody")
				must(t, os.Chmod(filepath.Join(root, bootcontract.IMDSBlockScript), 0o755))
			},
			message: "does not refuse 169.254.169.254 to " + bootcontract.ComfyUIUser,
		},
		{
			name: "the worker's env folder is readable by others",
			breakIt: func(t *testing.T, root string) {
				must(t, os.Chmod(filepath.Join(root, filepath.Dir(bootcontract.EnvFile)), 0o755))
			},
			message: filepath.Dir(bootcontract.EnvFile) + " is '755",
		},
		{
			name:    "baked bundle id differs",
			env:     []string{"EXPECT_BUNDLE_ID=bundle-42"},
			message: "baked bundle id is ''",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			root := healthyRoot(t)
			if c.breakIt != nil {
				c.breakIt(t, root)
			}
			r := selfCheck(t, root, c.env...)
			if r.err == nil {
				t.Fatalf("self-check passed despite %s:\n%s", c.name, r.out)
			}
			if !strings.Contains(r.out, "SELF-CHECK FAIL") || !strings.Contains(r.out, c.message) {
				t.Errorf("failure output lacks %q:\n%s", c.message, r.out)
			}
		})
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func editFile(t *testing.T, path, old, replacement string) {
	t.Helper()
	data := readFile(t, path)
	if !strings.Contains(data, old) {
		t.Fatalf("%s has no %q", path, old)
	}
	writeFile(t, path, strings.Replace(data, old, replacement, 1), 0o644)
}
