package packer_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/bp/infra/bootcontract"
	"github.com/bp/infra/packer/internal/bootfiles"
)

// seedAccounts gives a temporary root the account files useradd --root edits,
// and the nologin shell the service user gets.
func seedAccounts(t *testing.T, root string) {
	t.Helper()
	writeFile(t, filepath.Join(root, "etc/passwd"), "root:x:0:0:root:/root:/bin/bash\n", 0o644)
	writeFile(t, filepath.Join(root, "etc/group"), "root:x:0:\n", 0o644)
	writeFile(t, filepath.Join(root, "etc/shadow"), "root:*:19000:0:99999:7:::\n", 0o640)
	writeFile(t, filepath.Join(root, "etc/gshadow"), "root:*::\n", 0o640)
	writeFile(t, filepath.Join(root, "usr/sbin/nologin"), "#!/bin/sh\nexit 1\n", 0o755)
}

// passwdEntry returns the fields of a user in root's /etc/passwd.
func passwdEntry(t *testing.T, root, user string) []string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, "etc/passwd"))
	if err != nil {
		t.Fatalf("read passwd: %v", err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Split(line, ":")
		if len(f) == 7 && f[0] == user {
			return f
		}
	}
	t.Fatalf("user %s not in %s/etc/passwd", user, root)
	return nil
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatalf("not a number: %q", s)
	}
	return n
}

// installOpts picks --no-chown when the tests do not run as root.
func installOpts() []string {
	if isRoot() {
		return nil
	}
	return []string{"--no-chown"}
}

// installBootPath runs the AMI's install scripts against root, as Packer does
// on the build instance (minus apt, git and pip): service users, ComfyUI's
// owners, worker, units, IMDS block, logging.
func installBootPath(t *testing.T, root, worker string) {
	t.Helper()
	env := bootEnv()
	if isRoot() {
		// The script calls useradd (Debian's passwd package) from PATH.
		env = append(env, "PATH="+filepath.Dir(requireTool(t, "useradd"))+":"+os.Getenv("PATH"))
		seedAccounts(t, root)
		mustRun(t, env, script(t, "create-service-user.sh"), "--root", root)
	}
	// What install-comfyui.sh leaves (minus git, venv and pip): the code with
	// ComfyUI's own model and custom node folders, all root's.
	for _, f := range []string{"main.py", "models/checkpoints/put_checkpoints_here", "custom_nodes/example_node.py.example"} {
		writeFile(t, filepath.Join(root, bootcontract.ComfyUIHome, f), "", 0o644)
	}
	mustRun(t, env, script(t, "set-comfyui-owners.sh"), append([]string{"--root", root}, installOpts()...)...)
	args := append([]string{"--root", root, "--binary", worker}, installOpts()...)
	mustRun(t, env, script(t, "install-worker.sh"), args...)
	units, err := filepath.Abs("units")
	if err != nil {
		t.Fatal(err)
	}
	mustRun(t, env, script(t, "install-units.sh"), "--root", root, "--units-src", units)
	block, err := filepath.Abs(bootfiles.IMDSBlockScriptFile)
	if err != nil {
		t.Fatal(err)
	}
	mustRun(t, env, script(t, "install-imds-block.sh"), append([]string{"--root", root, "--script", block}, installOpts()...)...)
	logrotate, err := filepath.Abs(bootfiles.LogrotateFile)
	if err != nil {
		t.Fatal(err)
	}
	mustRun(t, env, script(t, "install-logging.sh"), append([]string{"--root", root, "--logrotate", logrotate}, installOpts()...)...)
}

// fakeCloudWatchAgent stands in for what install-cloudwatch-agent.sh installs
// from the real package (tested on its own in cloudwatch_agent_test.go).
func fakeCloudWatchAgent(t *testing.T, root string) {
	t.Helper()
	for _, exe := range []string{bootcontract.CloudWatchAgentBinary, bootcontract.CloudWatchAgentCtl} {
		writeFile(t, filepath.Join(root, exe), "#!/bin/sh\nexit 0\n", 0o755)
	}
}

// fakeComfyUI lays out what install-comfyui.sh leaves behind: main.py and a
// real venv (python3 -m venv), so sys.prefix checks are genuine. --copies
// keeps the interpreter inside the tree, as /usr/bin/python3 is on the AMI.
func fakeComfyUI(t *testing.T, root string) {
	t.Helper()
	requireTool(t, "python3")
	writeFile(t, filepath.Join(root, bootcontract.ComfyUIHome, "main.py"), "print('comfyui')\n", 0o644)
	mustRun(t, nil, "python3", "-m", "venv", "--copies", "--without-pip", filepath.Join(root, bootcontract.ComfyUIVenv))
}
