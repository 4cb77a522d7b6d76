package packer_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func shellScripts(t *testing.T) []string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join("scripts", "*.sh"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no scripts in packer/scripts: %v", err)
	}
	return paths
}

func TestScripts_Shellcheck(t *testing.T) {
	t.Parallel()
	shellcheck := requireTool(t, "shellcheck")

	t.Run("all scripts are clean", func(t *testing.T) {
		t.Parallel()
		args := append([]string{"--shell=bash", "--severity=style"}, shellScripts(t)...)
		if r := run(t, nil, shellcheck, args...); r.err != nil {
			t.Fatalf("shellcheck found problems:\n%s", r.out)
		}
	})
	// Proves the check can fail: an unquoted expansion is reported.
	t.Run("rejects a bad script", func(t *testing.T) {
		t.Parallel()
		bad := filepath.Join(t.TempDir(), "bad.sh")
		writeFile(t, bad, "#!/usr/bin/env bash\nset -euo pipefail\nrm -rf $1/*\n", 0o755)
		if r := run(t, nil, shellcheck, "--shell=bash", bad); r.err == nil {
			t.Fatalf("shellcheck accepted an unquoted rm -rf $1/*:\n%s", r.out)
		}
	})
}

func TestScripts_StrictModeAndExecutable(t *testing.T) {
	for _, p := range shellScripts(t) {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(string(data), "\n")
		if lines[0] != "#!/usr/bin/env bash" {
			t.Errorf("%s: first line %q, want #!/usr/bin/env bash", p, lines[0])
		}
		strict := false
		for _, l := range lines {
			if strings.TrimSpace(l) == "set -euo pipefail" {
				strict = true
				break
			}
			if l != "" && !strings.HasPrefix(l, "#") {
				break // strict mode must come before any command
			}
		}
		if !strict {
			t.Errorf("%s: set -euo pipefail must precede every command", p)
		}
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm()&0o111 == 0 {
			t.Errorf("%s is not executable", p)
		}
	}
}
