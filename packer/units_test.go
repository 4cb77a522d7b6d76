package packer_test

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/bp/infra/bootcontract"
	"github.com/bp/infra/packer/internal/bootfiles"
)

func TestGeneratedFiles_MatchBootcontract(t *testing.T) {
	for _, f := range bootfiles.Files() {
		got, err := os.ReadFile(f.Path)
		if err != nil {
			t.Errorf("%s: %v (run go run ./packer/cmd/genunits)", f.Path, err)
			continue
		}
		if string(got) != f.Content {
			t.Errorf("%s is stale or hand-edited; run go run ./packer/cmd/genunits and commit", f.Path)
		}
	}
}

// The stack's user data enables bootcontract.Units(); each must ship in packer/
// and nothing else may: one source of truth for unit names.
func TestUnits_EveryContractUnitShipsInPacker(t *testing.T) {
	for _, u := range bootcontract.Units() {
		if _, err := os.Stat(filepath.Join("units", u)); err != nil {
			t.Errorf("unit %s from bootcontract.Units() is not in packer/units: %v", u, err)
		}
	}
	entries, err := os.ReadDir("units")
	if err != nil {
		t.Fatalf("read units: %v", err)
	}
	for _, e := range entries {
		if !slices.Contains(bootcontract.Units(), e.Name()) {
			t.Errorf("packer/units/%s is not in bootcontract.Units()", e.Name())
		}
	}
}

func TestUnits_ComfyUIRunsTheVenvPython(t *testing.T) {
	u := parseUnit(t, filepath.Join("units", bootcontract.ComfyUIUnit))
	want := bootcontract.ComfyUIPython + " " + bootcontract.ComfyUIHome + "/main.py --listen " +
		bootcontract.ComfyUIHost + " --port " + strconv.Itoa(bootcontract.ComfyUIPort)
	if got := u.one(t, "Service", "ExecStart"); got != want {
		t.Errorf("ExecStart = %q, want %q", got, want)
	}
	if got := u.one(t, "Service", "User"); got != bootcontract.ComfyUIUser {
		t.Errorf("User = %q, want %q", got, bootcontract.ComfyUIUser)
	}
	if got := u.one(t, "Service", "Restart"); got != "on-failure" {
		t.Errorf("Restart = %q, want on-failure", got)
	}
	if got := u.one(t, "Service", "WorkingDirectory"); got != bootcontract.ComfyUIHome {
		t.Errorf("WorkingDirectory = %q, want %q", got, bootcontract.ComfyUIHome)
	}
}

func TestUnits_BundleSyncRunsOnceBeforeTheWorker(t *testing.T) {
	u := parseUnit(t, filepath.Join("units", bootcontract.BundleSyncUnit))
	checks := map[[2]string]string{
		{"Service", "Type"}:             "oneshot",
		{"Service", "RemainAfterExit"}:  "yes",
		{"Service", "ExecStart"}:        bootcontract.WorkerBinary + " sync-bundle",
		{"Service", "EnvironmentFile"}:  bootcontract.EnvFile,
		{"Service", "User"}:             bootcontract.WorkerUser,
		{"Unit", "ConditionPathExists"}: bootcontract.EnvFile,
		{"Service", "ProtectSystem"}:    "strict",
		{"Service", "NoNewPrivileges"}:  "yes",
	}
	for k, want := range checks {
		if got := u.one(t, k[0], k[1]); got != want {
			t.Errorf("[%s] %s = %q, want %q", k[0], k[1], got, want)
		}
	}
	if !slices.Contains(u.words("Unit", "Before"), bootcontract.WorkerUnit) {
		t.Errorf("Before= lacks %s", bootcontract.WorkerUnit)
	}
	rw := u.words("Service", "ReadWritePaths")
	for _, p := range []string{bootcontract.ComfyUIHome, bootcontract.WorkerStateDir, bootcontract.LogDir} {
		if !slices.Contains(rw, p) {
			t.Errorf("ReadWritePaths %v lacks %s", rw, p)
		}
	}
}

func TestUnits_WorkerDependsOnComfyUIAndSyncAndDrains(t *testing.T) {
	u := parseUnit(t, filepath.Join("units", bootcontract.WorkerUnit))
	checks := map[[2]string]string{
		{"Service", "ExecStart"}:        bootcontract.WorkerBinary + " run",
		{"Service", "EnvironmentFile"}:  bootcontract.EnvFile,
		{"Service", "User"}:             bootcontract.WorkerUser,
		{"Service", "Restart"}:          "always",
		{"Service", "KillSignal"}:       "SIGTERM",
		{"Service", "NoNewPrivileges"}:  "yes",
		{"Service", "ProtectSystem"}:    "strict",
		{"Service", "ProtectHome"}:      "yes",
		{"Service", "PrivateTmp"}:       "yes",
		{"Unit", "ConditionPathExists"}: bootcontract.EnvFile,
	}
	for k, want := range checks {
		if got := u.one(t, k[0], k[1]); got != want {
			t.Errorf("[%s] %s = %q, want %q", k[0], k[1], got, want)
		}
	}
	if rw := u.words("Service", "ReadWritePaths"); !slices.Equal(rw, []string{bootcontract.WorkerStateDir, bootcontract.LogDir}) {
		t.Errorf("ReadWritePaths = %v, want only %s and %s", rw, bootcontract.WorkerStateDir, bootcontract.LogDir)
	}
	for _, key := range []string{"After", "Requires"} {
		for _, dep := range []string{bootcontract.ComfyUIUnit, bootcontract.BundleSyncUnit} {
			if !slices.Contains(u.words("Unit", key), dep) {
				t.Errorf("%s= lacks %s", key, dep)
			}
		}
	}
	// The worker drains for 30 s on SIGTERM; systemd must wait longer.
	stop, err := strconv.Atoi(u.one(t, "Service", "TimeoutStopSec"))
	if err != nil || stop <= 30 {
		t.Errorf("TimeoutStopSec = %q, want more than the worker's 30 s drain", u.one(t, "Service", "TimeoutStopSec"))
	}
	if _, err := strconv.Atoi(u.one(t, "Service", "RestartSec")); err != nil {
		t.Errorf("RestartSec must be a number of seconds: %v", err)
	}
}

// Every unit appends stdout and stderr to its file in bootcontract.LogDir,
// which the CloudWatch agent ships; bundle sync is the worker binary, so it
// shares the worker's file.
func TestUnits_AppendTheirOutputToTheShippedLogFiles(t *testing.T) {
	want := map[string]string{
		bootcontract.IMDSBlockUnit:  bootcontract.WorkerLogFile,
		bootcontract.ComfyUIUnit:    bootcontract.ComfyUILogFile,
		bootcontract.BundleSyncUnit: bootcontract.WorkerLogFile,
		bootcontract.WorkerUnit:     bootcontract.WorkerLogFile,
	}
	for _, name := range bootcontract.Units() {
		file, ok := want[name]
		if !ok {
			t.Fatalf("no log file expected for %s; extend this test", name)
		}
		if filepath.Dir(file) != bootcontract.LogDir {
			t.Errorf("%s is outside %s", file, bootcontract.LogDir)
		}
		u := parseUnit(t, filepath.Join("units", name))
		for _, key := range []string{"StandardOutput", "StandardError"} {
			if got := u.one(t, "Service", key); got != "append:"+file {
				t.Errorf("%s: %s = %q, want append:%s", name, key, got, file)
			}
		}
		// Under ProtectSystem=strict /var/log is read-only unless listed.
		if u.one(t, "Service", "ProtectSystem") == "strict" && !slices.Contains(u.words("Service", "ReadWritePaths"), bootcontract.LogDir) {
			t.Errorf("%s: ReadWritePaths lacks %s", name, bootcontract.LogDir)
		}
	}
}

// Every unit can be enabled by the user data: each has an [Install] target.
func TestUnits_AreEnableable(t *testing.T) {
	for _, name := range bootcontract.Units() {
		u := parseUnit(t, filepath.Join("units", name))
		if got := u.one(t, "Install", "WantedBy"); got != "multi-user.target" {
			t.Errorf("%s: WantedBy = %q, want multi-user.target", name, got)
		}
	}
}

// verifyRoot builds an OS tree with our units and executables at every
// ExecStart path, so systemd-analyze verify checks what the AMI will hold.
func verifyRoot(t *testing.T) string {
	t.Helper()
	root := systemRoot(t)
	for _, name := range bootcontract.Units() {
		data, err := os.ReadFile(filepath.Join("units", name))
		if err != nil {
			t.Fatalf("read unit: %v", err)
		}
		writeFile(t, filepath.Join(root, "etc/systemd/system", name), string(data), 0o644)
	}
	for _, exe := range []string{bootcontract.WorkerBinary, bootcontract.ComfyUIPython, bootcontract.IMDSBlockScript} {
		writeFile(t, filepath.Join(root, exe), "#!/bin/sh\nexit 0\n", 0o755)
	}
	return root
}

func systemdVerify(t *testing.T, root string, units ...string) result {
	t.Helper()
	args := append([]string{"verify", "--man=no", "--root=" + root}, units...)
	return run(t, nil, "systemd-analyze", args...)
}

func TestUnits_SystemdAnalyzeVerify(t *testing.T) {
	t.Parallel()
	requireTool(t, "systemd-analyze")

	t.Run("shipped units pass", func(t *testing.T) {
		t.Parallel()
		root := verifyRoot(t)
		if r := systemdVerify(t, root, bootcontract.Units()...); r.err != nil {
			t.Fatalf("systemd-analyze verify rejected the shipped units: %v\n%s", r.err, r.out)
		}
	})

	broken := []struct {
		name   string
		unit   string
		mutate func(string) string
		root   func(t *testing.T, root string)
	}{
		{
			name: "misspelled ExecStart",
			unit: bootcontract.WorkerUnit,
			mutate: func(s string) string {
				return strings.Replace(s, "ExecStart=", "ExecStrat=", 1)
			},
		},
		{
			name: "ExecStart binary missing",
			unit: bootcontract.WorkerUnit,
			root: func(t *testing.T, root string) {
				if err := os.Remove(filepath.Join(root, bootcontract.WorkerBinary)); err != nil {
					t.Fatal(err)
				}
			},
		},
		{
			name: "relative ExecStart",
			unit: bootcontract.ComfyUIUnit,
			mutate: func(s string) string {
				return strings.Replace(s, "ExecStart="+bootcontract.ComfyUIPython, "ExecStart=venv/bin/python", 1)
			},
		},
		{
			name: "oneshot with Restart=always",
			unit: bootcontract.BundleSyncUnit,
			mutate: func(s string) string {
				return strings.Replace(s, "RemainAfterExit=yes", "RemainAfterExit=yes\nRestart=always", 1)
			},
		},
		{
			name: "ComfyUI without its IMDS block",
			unit: bootcontract.ComfyUIUnit,
			root: func(t *testing.T, root string) {
				if err := os.Remove(filepath.Join(root, "etc/systemd/system", bootcontract.IMDSBlockUnit)); err != nil {
					t.Fatal(err)
				}
			},
		},
		{
			name: "requires a unit that does not exist",
			unit: bootcontract.WorkerUnit,
			mutate: func(s string) string {
				return strings.Replace(s, "Requires=", "Requires=no-such-thing.service ", 1)
			},
		},
	}
	for _, b := range broken {
		t.Run("rejects "+b.name, func(t *testing.T) {
			t.Parallel()
			root := verifyRoot(t)
			path := filepath.Join(root, "etc/systemd/system", b.unit)
			if b.mutate != nil {
				data, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				mutated := b.mutate(string(data))
				if mutated == string(data) {
					t.Fatal("mutation changed nothing")
				}
				writeFile(t, path, mutated, 0o644)
			}
			if b.root != nil {
				b.root(t, root)
			}
			if r := systemdVerify(t, root, b.unit); r.err == nil {
				t.Fatalf("systemd-analyze verify accepted a broken unit (%s):\n%s", b.name, r.out)
			}
		})
	}
}

// ComfyUI runs arbitrary workflows: its own user, sandboxed, and never
// started without the IMDS block.
func TestUnits_ComfyUIIsSandboxedAndRequiresTheIMDSBlock(t *testing.T) {
	u := parseUnit(t, filepath.Join("units", bootcontract.ComfyUIUnit))
	for _, key := range []string{"Requires", "After"} {
		if !slices.Contains(u.words("Unit", key), bootcontract.IMDSBlockUnit) {
			t.Errorf("%s= lacks %s", key, bootcontract.IMDSBlockUnit)
		}
	}
	for k, want := range map[string]string{"User": "comfyui", "Group": "comfyui", "NoNewPrivileges": "yes", "ProtectSystem": "strict",
		"ProtectHome": "yes", "PrivateTmp": "yes", "ProtectProc": "invisible"} {
		if got := u.one(t, "Service", k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	// Writable: only its input/output/temp/user folders (and the log path
	// systemd opens for it); never the code, models or custom nodes.
	rw := u.words("Service", "ReadWritePaths")
	for _, d := range []string{"/opt/comfyui/input", "/opt/comfyui/output", "/opt/comfyui/temp", "/opt/comfyui/user"} {
		if !slices.Contains(rw, d) {
			t.Errorf("ReadWritePaths %v lacks %s", rw, d)
		}
	}
	for _, p := range rw {
		if p == bootcontract.ComfyUIHome || strings.HasPrefix(bootcontract.ComfyUIModelsDir, p) || strings.HasPrefix(p, bootcontract.ComfyUIModelsDir) ||
			strings.HasPrefix(p, bootcontract.ComfyUICustomNodesDir) || strings.HasPrefix(p, "/var/lib/comfyui-worker") || strings.HasPrefix(p, "/etc") {
			t.Errorf("ReadWritePaths lets ComfyUI write %s", p)
		}
	}
	// The worker's folders are hidden from it as a second wall.
	if got := u.words("Service", "InaccessiblePaths"); !slices.Equal(got, []string{"/etc/comfyui-worker", "/var/lib/comfyui-worker"}) {
		t.Errorf("InaccessiblePaths = %v, want the env folder and the state folder", got)
	}
	// CUDA needs the GPU device nodes and executable memory.
	for _, k := range []string{"PrivateDevices", "MemoryDenyWriteExecute", "DevicePolicy"} {
		if len(u["Service"][k]) != 0 {
			t.Errorf("%s is set; it breaks CUDA", k)
		}
	}
	if got := u.one(t, "Service", "CacheDirectory"); "/var/cache/"+got != bootcontract.ComfyUIStateHome {
		t.Errorf("CacheDirectory %s is not ComfyUI's home %s", got, bootcontract.ComfyUIStateHome)
	}
}

func TestUnits_IMDSBlockRunsOnceAsRootBeforeComfyUI(t *testing.T) {
	u := parseUnit(t, filepath.Join("units", bootcontract.IMDSBlockUnit))
	for k, want := range map[[2]string]string{
		{"Service", "Type"}:            "oneshot",
		{"Service", "RemainAfterExit"}: "yes",
		{"Service", "ExecStart"}:       bootcontract.IMDSBlockScript,
		{"Install", "RequiredBy"}:      bootcontract.ComfyUIUnit,
	} {
		if got := u.one(t, k[0], k[1]); got != want {
			t.Errorf("[%s] %s = %q, want %q", k[0], k[1], got, want)
		}
	}
	if !slices.Contains(u.words("Unit", "Before"), bootcontract.ComfyUIUnit) {
		t.Errorf("Before= lacks %s", bootcontract.ComfyUIUnit)
	}
	if len(u["Service"]["User"]) != 0 {
		t.Errorf("User=%v: the firewall needs root", u["Service"]["User"])
	}
}

// The worker and the bundle sync run as the worker's user, which owns
// models/ and custom_nodes/; the sync's files stay readable to ComfyUI.
func TestUnits_WorkerAndBundleSyncRunAsTheWorkerUser(t *testing.T) {
	for _, name := range []string{bootcontract.BundleSyncUnit, bootcontract.WorkerUnit} {
		u := parseUnit(t, filepath.Join("units", name))
		if got := u.one(t, "Service", "User"); got != "comfyui-worker" || got == bootcontract.ComfyUIUser {
			t.Errorf("%s: User = %q, want comfyui-worker", name, got)
		}
	}
	if got := parseUnit(t, filepath.Join("units", bootcontract.BundleSyncUnit)).one(t, "Service", "UMask"); got != "0022" {
		t.Errorf("bundle sync UMask = %s, want 0022 (files readable by ComfyUI)", got)
	}
}

// TestUnits_WorkerExitForComfyUIRestartsComfyUI runs the worker unit's
// ExecStopPost as systemd would: systemd turns "$$" into "$" (systemd.service,
// "Command lines": "use "$$" to pass a literal dollar sign"), drops the "+"
// prefix (full privileges), and sets $EXIT_CODE and $EXIT_STATUS (systemd.exec,
// "Environment variables in spawned processes"). Only the worker's
// ComfyUI-unavailable exit restarts ComfyUI.
func TestUnits_WorkerExitForComfyUIRestartsComfyUI(t *testing.T) {
	sh := requireTool(t, "sh")
	u := parseUnit(t, filepath.Join("units", bootcontract.WorkerUnit))
	line := u.one(t, "Service", "ExecStopPost")
	if !strings.HasPrefix(line, "+") {
		t.Fatalf("ExecStopPost %q must run as root (+): the worker user cannot restart units", line)
	}
	argv := splitSystemdCommand(t, strings.ReplaceAll(strings.TrimPrefix(line, "+"), "$$", "$"))
	for _, c := range []struct {
		code, status string
		restart      bool
	}{
		{"exited", strconv.Itoa(bootcontract.ExitComfyUIUnavailable), true},
		{"exited", "0", false}, {"exited", "1", false}, {"exited", "2", false},
		{"killed", "TERM", false}, {"dumped", "SEGV", false},
	} {
		bin := t.TempDir()
		calls := filepath.Join(bin, "calls")
		fake := "#!" + sh + "\necho \"$@\" >> " + calls + "\n"
		if err := os.WriteFile(filepath.Join(bin, "systemctl"), []byte(fake), 0o755); err != nil {
			t.Fatal(err)
		}
		r := run(t, []string{"PATH=" + bin + ":/usr/bin:/bin", "EXIT_CODE=" + c.code, "EXIT_STATUS=" + c.status}, argv[0], argv[1:]...)
		if r.err != nil {
			t.Fatalf("ExecStopPost with %s/%s: %v\n%s", c.code, c.status, r.err, r.out)
		}
		got, _ := os.ReadFile(calls)
		want := ""
		if c.restart {
			want = "--no-block restart " + bootcontract.ComfyUIUnit + "\n"
		}
		if string(got) != want {
			t.Errorf("worker %s with status %s: systemctl called with %q, want %q", c.code, c.status, got, want)
		}
	}
}

// splitSystemdCommand splits a unit's command line the way systemd does for
// the quoting our units use: words, and single-quoted strings.
func splitSystemdCommand(t *testing.T, line string) []string {
	t.Helper()
	var out []string
	for line = strings.TrimSpace(line); line != ""; line = strings.TrimSpace(line) {
		if line[0] == '\'' {
			end := strings.IndexByte(line[1:], '\'')
			if end < 0 {
				t.Fatalf("unbalanced quote in %q", line)
			}
			out = append(out, line[1:end+1])
			line = line[end+2:]
			continue
		}
		word, rest, _ := strings.Cut(line, " ")
		out = append(out, word)
		line = rest
	}
	return out
}
