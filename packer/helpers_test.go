package packer_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bp/infra/internal/testtool"
	"github.com/bp/infra/packer/internal/bootfiles"
)

// requireTool returns the path of an external tool: a missing tool skips the
// test locally but fails it under CI=true (internal/testtool), so CI can
// never silently skip. Debian keeps admin tools such as useradd in /usr/sbin,
// which a non-root PATH lacks.
func requireTool(t *testing.T, name string) string {
	t.Helper()
	return testtool.Require(t, name, "apt-get install the Debian package that ships "+name, "/usr/sbin", "/sbin")
}

// result is the outcome of one command run.
type result struct {
	out string
	err error
}

// run executes a command with a timeout and extra environment.
func run(t *testing.T, env []string, name string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), env...)
	var buf bytes.Buffer
	cmd.Stdout = &buf
	cmd.Stderr = &buf
	err := cmd.Run()
	return result{out: buf.String(), err: err}
}

// mustRun fails the test when the command fails.
func mustRun(t *testing.T, env []string, name string, args ...string) string {
	t.Helper()
	r := run(t, env, name, args...)
	if r.err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), r.err, r.out)
	}
	return r.out
}

// script is the absolute path of a provisioning script.
func script(t *testing.T, name string) string {
	t.Helper()
	path, err := filepath.Abs(filepath.Join("scripts", name))
	if err != nil {
		t.Fatalf("resolve script %s: %v", name, err)
	}
	return path
}

// bootEnv is what Packer passes to every script as local.boot_env.
func bootEnv() []string { return bootfiles.BootEnvStrings() }

// writeFile makes path a new file (an existing one is removed first, never
// written in place: it may be a hard link a healthy tree shares).
func writeFile(t *testing.T, path, content string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatalf("mkdir for %s: %v", path, err)
	}
	if err := os.Remove(path); err != nil && !os.IsNotExist(err) {
		t.Fatalf("remove %s: %v", path, err)
	}
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatalf("write %s: %v", path, err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatalf("chmod %s: %v", path, err)
	}
}

func isRoot() bool { return os.Geteuid() == 0 }
