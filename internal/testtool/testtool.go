// Package testtool finds the system programs that tests drive (mariadbd,
// cfn-lint, moto_server, node, systemd-analyze, ...). A missing program skips the test with a one-line
// notice on a developer machine and fails it when CI=true, so CI can never
// pass by skipping. It is imported only from tests.
package testtool

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// InCI reports whether the tests run in CI, where every tool must be present.
func InCI() bool { return os.Getenv("CI") == "true" }

// Find returns the path of program name from PATH or, failing that, from one
// of extraDirs: Debian installs daemons such as mariadbd in /usr/sbin, which
// is not on an ordinary user's PATH.
func Find(name string, extraDirs ...string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	for _, dir := range extraDirs {
		p := filepath.Join(dir, name)
		if info, err := os.Stat(p); err == nil && !info.IsDir() && info.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	where := "PATH"
	if len(extraDirs) > 0 {
		where += " or " + strings.Join(extraDirs, ", ")
	}
	return "", fmt.Errorf("%s not found on %s", name, where)
}

// Require returns the path of program name, or ends the test: skipped
// locally, failed under CI=true. install says how to get the program, e.g.
// "apt-get install mariadb-server".
func Require(t testing.TB, name, install string, extraDirs ...string) string {
	t.Helper()
	p, err := Find(name, extraDirs...)
	if err != nil {
		Missing(t, fmt.Sprintf("%v (install: %s)", err, install))
	}
	return p
}

// Missing ends the test because something it needs from the system is not
// there; reason is one line naming it and how to install it.
func Missing(t testing.TB, reason string) {
	t.Helper()
	if InCI() {
		t.Fatalf("CI=true and a required tool is missing: %s", reason)
	}
	t.Skipf("skipped: %s; CI=true turns this into a failure", reason)
}

// WriteFile writes text to dir/rel, making the folders it needs, or ends the
// test: for fixtures such as a throwaway Go module or cloud assembly.
func WriteFile(t testing.TB, dir, rel, text string) {
	t.Helper()
	path := filepath.Join(dir, rel)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}
