package packer_test

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/bp/infra/bootcontract"
	"github.com/bp/infra/packer/internal/bootfiles"
)

func statOf(t *testing.T, path string) (os.FileMode, *syscall.Stat_t) {
	t.Helper()
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatalf("stat %s: %v", path, err)
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		t.Fatalf("no owner information for %s", path)
	}
	return fi.Mode(), st
}

func TestInstallScripts_IntoTemporaryRoot(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	worker := workerBinary(t)
	installBootPath(t, root, worker)
	// A second run (re-provisioning) must converge, not fail.
	installBootPath(t, root, worker)

	var uid, gid, cuid, cgid int
	if isRoot() {
		for _, u := range []struct{ name, home string }{{bootcontract.WorkerUser, bootcontract.WorkerStateDir}, {bootcontract.ComfyUIUser, bootcontract.ComfyUIStateHome}} {
			entry := passwdEntry(t, root, u.name)
			if id := atoi(t, entry[2]); id == 0 || id >= 1000 {
				t.Errorf("%s uid = %d, want a system uid (1..999)", u.name, id)
			}
			if entry[6] != "/usr/sbin/nologin" {
				t.Errorf("%s shell = %q, want /usr/sbin/nologin", u.name, entry[6])
			}
			if entry[5] != u.home {
				t.Errorf("%s home = %q, want %s", u.name, entry[5], u.home)
			}
			if n := strings.Count(readFile(t, filepath.Join(root, "etc/passwd")), "\n"+u.name+":"); n != 1 {
				t.Errorf("%s appears %d times in passwd after two runs, want 1", u.name, n)
			}
		}
		w, c := passwdEntry(t, root, bootcontract.WorkerUser), passwdEntry(t, root, bootcontract.ComfyUIUser)
		uid, gid, cuid, cgid = atoi(t, w[2]), atoi(t, w[3]), atoi(t, c[2]), atoi(t, c[3])
		if uid == cuid || gid == cgid {
			t.Errorf("worker %d:%d and ComfyUI %d:%d share a uid or group", uid, gid, cuid, cgid)
		}
		for _, line := range strings.Split(readFile(t, filepath.Join(root, "etc/group")), "\n") {
			if f := strings.Split(line, ":"); len(f) == 4 && f[2] == w[3] && strings.Contains(","+f[3]+",", ","+bootcontract.ComfyUIUser+",") {
				t.Errorf("%s is a member of the worker's group: %s", bootcontract.ComfyUIUser, line)
			}
		}
	} else {
		t.Log("not root: ran with --no-chown, owners not checked")
	}

	checks := []struct {
		path     string
		mode     os.FileMode
		uid, gid int
		wantDir  bool
	}{
		{bootcontract.WorkerBinary, 0o755, 0, 0, false},
		{bootcontract.WorkerStateDir, 0o700, uid, gid, true},
		{filepath.Dir(bootcontract.EnvFile), 0o750, 0, gid, true},
		{bootcontract.LogDir, 0o750, uid, gid, true},
		{"/etc/logrotate.d/" + filepath.Base(bootfiles.LogrotateFile), 0o644, 0, 0, false},
		{bootcontract.IMDSBlockScript, 0o755, 0, 0, false},
		// The bundle sync (worker user) writes models and custom nodes; ComfyUI only reads them.
		{bootcontract.ComfyUIModelsDir, 0o755, uid, gid, true},
		{bootcontract.ComfyUIModelsDir + "/checkpoints", 0o755, uid, gid, true},
		{bootcontract.ComfyUIModelsDir + "/checkpoints/put_checkpoints_here", 0o644, uid, gid, false},
		{bootcontract.ComfyUICustomNodesDir, 0o755, uid, gid, true},
		{bootcontract.ComfyUICustomNodesDir + "/example_node.py.example", 0o644, uid, gid, false},
		{bootcontract.ComfyUIHome + "/main.py", 0o644, 0, 0, false},
	}
	for _, d := range bootcontract.ComfyUIWritableDirs() {
		checks = append(checks, struct {
			path     string
			mode     os.FileMode
			uid, gid int
			wantDir  bool
		}{d, 0o750, cuid, cgid, true})
	}
	for _, u := range bootcontract.Units() {
		checks = append(checks, struct {
			path     string
			mode     os.FileMode
			uid, gid int
			wantDir  bool
		}{"/etc/systemd/system/" + u, 0o644, 0, 0, false})
	}
	for _, c := range checks {
		mode, st := statOf(t, filepath.Join(root, c.path))
		if mode.IsDir() != c.wantDir {
			t.Errorf("%s: dir = %v, want %v", c.path, mode.IsDir(), c.wantDir)
		}
		if mode.Perm() != c.mode {
			t.Errorf("%s: mode %o, want %o", c.path, mode.Perm(), c.mode)
		}
		if isRoot() && (int(st.Uid) != c.uid || int(st.Gid) != c.gid) {
			t.Errorf("%s: owner %d:%d, want %d:%d", c.path, st.Uid, st.Gid, c.uid, c.gid)
		}
	}

	// The ComfyUI root: root-owned, the worker group may add the bundle state
	// files, the sticky bit keeps it off ComfyUI's code.
	if mode, st := statOf(t, filepath.Join(root, bootcontract.ComfyUIHome)); mode.Perm() != 0o775 || mode&os.ModeSticky == 0 ||
		(isRoot() && (st.Uid != 0 || int(st.Gid) != gid)) {
		t.Errorf("%s: mode %v owner %d:%d, want 1775 0:%d", bootcontract.ComfyUIHome, mode, st.Uid, st.Gid, gid)
	}
	if readFile(t, filepath.Join(root, bootcontract.IMDSBlockScript)) != bootfiles.IMDSBlockScript() {
		t.Error("installed IMDS block differs from the generated one")
	}
	if readFile(t, filepath.Join(root, "etc/logrotate.d", filepath.Base(bootfiles.LogrotateFile))) != bootfiles.Logrotate() {
		t.Error("installed logrotate config differs from the generated one")
	}
	// The installed binary is the one make worker built, byte for byte.
	if readFile(t, filepath.Join(root, bootcontract.WorkerBinary)) != readFile(t, worker) {
		t.Error("installed worker differs from the uploaded binary")
	}
	// Units are installed, not enabled: the user data enables them.
	wants, _ := filepath.Glob(filepath.Join(root, "etc/systemd/system/*.wants/*"))
	if len(wants) != 0 {
		t.Errorf("units are enabled in the AMI (%v); the GpuFleet user data enables them after writing %s", wants, bootcontract.EnvFile)
	}
}

func TestInstallWorker_RefusesAMissingBinary(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	r := run(t, bootEnv(), script(t, "install-worker.sh"),
		append([]string{"--root", root, "--binary", filepath.Join(root, "no-such-worker")}, installOpts()...)...)
	if r.err == nil || !strings.Contains(r.out, "make worker") {
		t.Fatalf("want a failure that points at make worker, got err=%v\n%s", r.err, r.out)
	}
	if _, err := os.Stat(filepath.Join(root, bootcontract.WorkerBinary)); err == nil {
		t.Error("a worker file was installed anyway")
	}
}

func TestInstallWorker_RequiresTheServiceUser(t *testing.T) {
	t.Parallel()
	if !isRoot() {
		t.Skip("ownership is only applied as root")
	}
	root := t.TempDir()
	seedAccounts(t, root) // no create-service-user.sh run
	r := run(t, bootEnv(), script(t, "install-worker.sh"), "--root", root, "--binary", workerBinary(t))
	if r.err == nil || !strings.Contains(r.out, "create-service-user.sh") {
		t.Fatalf("want a failure naming create-service-user.sh, got err=%v\n%s", r.err, r.out)
	}
}

func TestInstallUnits_RefusesAMissingUnit(t *testing.T) {
	t.Parallel()
	src := t.TempDir()
	for _, u := range bootcontract.Units() {
		if u == bootcontract.WorkerUnit {
			continue
		}
		writeFile(t, filepath.Join(src, u), readFile(t, filepath.Join("units", u)), 0o644)
	}
	r := run(t, bootEnv(), script(t, "install-units.sh"), "--root", t.TempDir(), "--units-src", src)
	if r.err == nil || !strings.Contains(r.out, bootcontract.WorkerUnit) {
		t.Fatalf("want a failure naming %s, got err=%v\n%s", bootcontract.WorkerUnit, r.err, r.out)
	}
}

func TestScripts_RequireTheBootEnvironment(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"install-worker.sh", "install-units.sh", "self-check.sh", "create-service-user.sh",
		"install-logging.sh", "install-cloudwatch-agent.sh", "set-comfyui-owners.sh", "install-imds-block.sh", "bake-bundle.sh"} {
		r := run(t, []string{"BOOT_UNITS=", "BOOT_WORKER_BINARY=", "BOOT_WORKER_USER=", "BOOT_LOG_DIR=", "BOOT_CLOUDWATCH_AGENT_BINARY=",
			"BOOT_COMFYUI_HOME=", "BOOT_IMDS_BLOCK_SCRIPT=", "BOOT_BAKED_BUNDLE_ID_FILE=", "BUNDLE_ID=x"}, script(t, name), "--root", t.TempDir())
		if r.err == nil {
			t.Errorf("%s ran without local.boot_env; it must refuse\n%s", name, r.out)
		}
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	return string(data)
}

func TestInstallLogging_RefusesAMissingConfig(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	r := run(t, bootEnv(), script(t, "install-logging.sh"),
		append([]string{"--root", root, "--logrotate", filepath.Join(root, "no-such-config")}, installOpts()...)...)
	if r.err == nil || !strings.Contains(r.out, "logrotate config") {
		t.Fatalf("want a failure naming the logrotate config, got err=%v\n%s", r.err, r.out)
	}
}
