package testtool

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestProbeMissingTool is the child run by TestMissingToolSkipsLocallyAndFailsInCI.
func TestProbeMissingTool(t *testing.T) {
	if os.Getenv("TESTTOOL_PROBE") != "1" {
		t.Skip("child process of TestMissingToolSkipsLocallyAndFailsInCI")
	}
	Require(t, "no-such-tool-3f9a", "apt-get install no-such-tool", t.TempDir())
	t.Log("reached after a missing tool")
}

// TestMissingToolSkipsLocallyAndFailsInCI runs this test binary again, once
// as on a developer machine and once with CI=true, and reads go test's verdict.
func TestMissingToolSkipsLocallyAndFailsInCI(t *testing.T) {
	run := func(ci string) (string, error) {
		cmd := exec.Command(os.Args[0], "-test.run=^TestProbeMissingTool$", "-test.v")
		cmd.Env = append(os.Environ(), "TESTTOOL_PROBE=1", "CI="+ci)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}

	out, err := run("")
	if err != nil || !strings.Contains(out, "--- SKIP: TestProbeMissingTool") {
		t.Fatalf("locally a missing tool must skip, got err=%v:\n%s", err, out)
	}
	if !strings.Contains(out, "skipped: no-such-tool-3f9a not found on PATH or ") ||
		!strings.Contains(out, "(install: apt-get install no-such-tool); CI=true turns this into a failure") {
		t.Errorf("skip notice must name the tool and how to install it:\n%s", out)
	}

	out, err = run("true")
	if err == nil || !strings.Contains(out, "--- FAIL: TestProbeMissingTool") {
		t.Fatalf("with CI=true a missing tool must fail, got err=%v:\n%s", err, out)
	}
	if !strings.Contains(out, "CI=true and a required tool is missing: no-such-tool-3f9a not found") {
		t.Errorf("failure must name the tool:\n%s", out)
	}
	if strings.Contains(out, "reached after a missing tool") {
		t.Errorf("the test must stop at the missing tool:\n%s", out)
	}
}

func TestFindLooksInExtraDirs(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(dir+"/fake-daemon", []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", t.TempDir())
	got, err := Find("fake-daemon", "/nonexistent", dir)
	if err != nil || got != dir+"/fake-daemon" {
		t.Fatalf("Find = %q, %v; want the copy in the extra dir", got, err)
	}
	if err := os.WriteFile(dir+"/not-executable", nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Find("not-executable", dir); err == nil {
		t.Fatal("a file without the execute bit is not a tool")
	}
}
