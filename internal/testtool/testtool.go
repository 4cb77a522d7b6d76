// Package testtool finds the system tools tests drive (MariaDB, cfn-lint,
// moto_server, node, systemd-analyze, ...). A missing tool skips the test with
// a one-line notice on a developer machine and fails it under CI=true, so CI
// can never pass by skipping.
package testtool

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// Require returns the path of the first of names found on PATH (or in the
// extra directories, e.g. /usr/sbin for mariadbd), or skips/fails the test.
func Require(t testing.TB, install string, names []string, extraDirs ...string) string {
	t.Helper()
	if path, ok := Find(names, extraDirs...); ok {
		return path
	}
	Missing(t, names[0], install)
	return ""
}

// Find looks a tool up without touching the test.
func Find(names []string, extraDirs ...string) (string, bool) {
	for _, name := range names {
		if path, err := exec.LookPath(name); err == nil {
			return path, true
		}
		for _, dir := range extraDirs {
			path := filepath.Join(dir, name)
			if st, err := os.Stat(path); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
				return path, true
			}
		}
	}
	return "", false
}

// Missing reports a tool that is not there: skip locally, fail in CI.
func Missing(t testing.TB, name, install string) {
	t.Helper()
	if InCI() {
		t.Fatalf("%s is required under CI=true (install: %s)", name, install)
	}
	t.Skipf("skipped: %s not installed (install: %s)", name, install)
}

// InCI reports whether missing tools must fail instead of skip.
func InCI() bool { return os.Getenv("CI") == "true" }
