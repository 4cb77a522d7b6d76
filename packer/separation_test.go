package packer_test

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/bp/infra/bootcontract"
)

// asUser runs a shell command with the uid, gid and supplementary groups a
// user of the temporary root gets from systemd's User= (numeric, so the
// host's accounts are never touched).
func asUser(t *testing.T, root, user, command string) result {
	t.Helper()
	e := passwdEntry(t, root, user)
	groups := []string{}
	for _, line := range strings.Split(readFile(t, filepath.Join(root, "etc/group")), "\n") {
		if f := strings.Split(line, ":"); len(f) == 4 && slices.Contains(strings.Split(f[3], ","), user) {
			groups = append(groups, f[2])
		}
	}
	ids := []string{"--reuid=" + e[2], "--regid=" + e[3], "--clear-groups"}
	if len(groups) > 0 {
		ids[2] = "--groups=" + strings.Join(groups, ",")
	}
	return run(t, nil, "setpriv", append(ids, "bash", "-c", command)...)
}

// The install scripts leave a tree in which ComfyUI's user cannot read the
// worker's env file, state folder or token, nor change models or custom
// nodes, while the worker reads its own files and ComfyUI reads its models.
// Checked by the kernel itself: each access is tried as each user.
func TestInstall_ComfyUIsUserCannotReachTheWorkersSecrets(t *testing.T) {
	t.Parallel()
	requireTool(t, "setpriv")
	if !isRoot() {
		t.Skip("ownership is only applied as root")
	}
	root := t.TempDir()
	installBootPath(t, root, workerBinary(t))
	// Let every user walk down to the tree, as on a real / (t.TempDir is 0700).
	for p := root; p != os.TempDir() && p != "/"; p = filepath.Dir(p) {
		if err := os.Chmod(p, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	w := passwdEntry(t, root, bootcontract.WorkerUser)
	wuid, wgid := atoi(t, w[2]), atoi(t, w[3])
	// What the user data and the worker write at boot: the env file 0640
	// root:<worker group>, the token 0600 worker.
	env := filepath.Join(root, bootcontract.EnvFile)
	writeFile(t, env, bootcontract.EnvFleetSecretARN+"=arn:aws:secretsmanager:us-east-1:123456789012:secret:fleet\n", 0o640)
	token := filepath.Join(root, bootcontract.WorkerTokenFile)
	writeFile(t, token, `{"token":"secret"}`, 0o600)
	must(t, os.Chown(env, 0, wgid))
	must(t, os.Chown(token, wuid, wgid))

	q := func(p string) string { return strconv.Quote(filepath.Join(root, p)) }
	for _, c := range []struct {
		user, what, command string
		allowed             bool
	}{
		{bootcontract.ComfyUIUser, "read the env file", "cat " + q(bootcontract.EnvFile), false},
		{bootcontract.ComfyUIUser, "list the env folder", "ls " + q(filepath.Dir(bootcontract.EnvFile)), false},
		{bootcontract.ComfyUIUser, "read the token", "cat " + q(bootcontract.WorkerTokenFile), false},
		{bootcontract.ComfyUIUser, "list the state folder", "ls " + q(bootcontract.WorkerStateDir), false},
		{bootcontract.ComfyUIUser, "read the worker log folder", "ls " + q(bootcontract.LogDir), false},
		{bootcontract.ComfyUIUser, "add a custom node", "touch " + q(bootcontract.ComfyUICustomNodesDir+"/evil.py"), false},
		{bootcontract.ComfyUIUser, "replace a model", "touch " + q(bootcontract.ComfyUIModelsDir+"/checkpoints/evil.safetensors"), false},
		{bootcontract.ComfyUIUser, "change ComfyUI's code", "touch " + q(bootcontract.ComfyUIHome+"/main.py"), false},
		{bootcontract.ComfyUIUser, "write a bundle state file", "touch " + q(bootcontract.ActiveBundleIDFile), false},
		{bootcontract.ComfyUIUser, "read a model", "cat " + q(bootcontract.ComfyUIModelsDir+"/checkpoints/put_checkpoints_here"), true},
		{bootcontract.ComfyUIUser, "read ComfyUI's code", "cat " + q(bootcontract.ComfyUIHome+"/main.py"), true},
		{bootcontract.ComfyUIUser, "write an output", "touch " + q(bootcontract.ComfyUIHome+"/output/image.png"), true},
		{bootcontract.WorkerUser, "read the env file", "cat " + q(bootcontract.EnvFile), true},
		{bootcontract.WorkerUser, "read the token", "cat " + q(bootcontract.WorkerTokenFile), true},
		{bootcontract.WorkerUser, "install a model", "touch " + q(bootcontract.ComfyUIModelsDir+"/checkpoints/new.safetensors"), true},
		{bootcontract.WorkerUser, "install a custom node", "mkdir " + q(bootcontract.ComfyUICustomNodesDir+"/pack"), true},
		{bootcontract.WorkerUser, "write a bundle state file", "touch " + q(bootcontract.ActiveBundleIDFile), true},
		{bootcontract.WorkerUser, "change ComfyUI's code", "touch " + q(bootcontract.ComfyUIHome+"/main.py"), false},
		{bootcontract.WorkerUser, "read ComfyUI's outputs folder", "ls " + q(bootcontract.ComfyUIHome+"/output"), false},
	} {
		r := asUser(t, root, c.user, c.command)
		if (r.err == nil) != c.allowed {
			t.Errorf("%s may %s: %v, want %v (%s)", c.user, c.what, r.err == nil, c.allowed, r.out)
		}
	}
}
