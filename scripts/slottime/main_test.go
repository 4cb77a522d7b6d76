package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bp/infra/internal/testtool"
)

// testdata/trace.json is written by hand in the Trace Event Format ("B" and
// "E" duration events of one tid, "ts" in microseconds), the shape the go
// command's -debug-trace writes: on two threads, x links 1-3 s and runs 3-6 s;
// y checks its cache 1-2 s, links 2-4 s, runs 4-5 s and prints 5-5.2 s; a
// vet that never ends, a link that never began (the trace cut), a modload
// span and a flow event do not count.
func TestSlotTimeOfAHandWrittenTrace(t *testing.T) {
	raw, err := os.ReadFile("testdata/trace.json")
	if err != nil {
		t.Fatal(err)
	}
	s, err := summarize(raw)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{"build": 1, "link": 4, "test run": 4, "other": 0.2}
	for k, v := range want {
		if !near(s.byKind[k], v) {
			t.Errorf("%s: %.2fs of slot time, want %.1fs (all: %v)", k, s.byKind[k], v, s.byKind)
		}
	}
	if len(s.byKind) != len(want) || !near(s.total(), 9.2) || !near(s.wall, 5) {
		t.Errorf("kinds %v total %.2f wall %.2f, want 4 kinds, 9.2 s in 5 s", s.byKind, s.total(), s.wall)
	}
	// x's link ends as its run starts: the slot is handed on, never a third.
	if s.slots != 2 || len(s.busy) != 3 || !near(s.busy[2], 4.2) || !near(s.busy[1], 0.8) || s.busy[0] != 0 {
		t.Errorf("slots %d, busy %v; want 2 slots, 4.2 s with two running and 0.8 s with one", s.slots, s.busy)
	}
	var out bytes.Buffer
	s.print(&out)
	for _, line := range []string{
		"slot time 9.2s (build 1.0s, link 4.0s, other 0.2s, test run 4.0s) in 5.0s from the first action's start to the last one's end; at most 2 at once: floor 4.6s",
		"  2 running 4.2s, 1 running 0.8s, 0 running 0.0s",
		"example.com/x", "3.0s, from   2.0s to   5.0s",
	} {
		if !strings.Contains(out.String(), line) {
			t.Errorf("output lacks %q:\n%s", line, out.String())
		}
	}
}

// The go command writes the array form of the format; the object form
// ({"traceEvents": [...]}) and a trace without actions are refused.
func TestRefusesWhatIsNotGosTrace(t *testing.T) {
	for _, raw := range []string{`{"traceEvents": []}`, `[]`, `[{"name":"modload","ph":"B","ts":1,"tid":0}]`} {
		if _, err := summarize([]byte(raw)); err == nil {
			t.Errorf("%s: no error", raw)
		}
	}
}

func near(a, b float64) bool { return a-b < 1e-9 && b-a < 1e-9 }

// TestReadsTheGoCommandsOwnTrace: the format is the go command's (the trace
// cmd/go writes with -debug-trace), so a real run on a throwaway module of
// one package must show that package's link and test run, the run after the
// link (the go command runs the test binary it linked: the trace records the
// flow "link example.com/traced.test -> test run example.com/traced"), at
// most -p actions at once, and busy times that add up to the span.
func TestReadsTheGoCommandsOwnTrace(t *testing.T) {
	goCmd := testtool.Require(t, "go", "https://go.dev/dl")
	mod := t.TempDir()
	testtool.WriteFile(t, mod, "go.mod", "module example.com/traced\n\ngo 1.24\n")
	testtool.WriteFile(t, mod, "traced_test.go", "package traced\n\nimport \"testing\"\n\nfunc TestNothing(t *testing.T) {}\n")
	trace := filepath.Join(t.TempDir(), "trace.json")
	cmd := exec.Command(goCmd, "test", "-count=1", "-p=2", "-debug-trace="+trace, "./...")
	cmd.Dir = mod
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go test: %v\n%s", err, out)
	}
	raw, err := os.ReadFile(trace)
	if err != nil {
		t.Fatal(err)
	}
	s, err := summarize(raw)
	if err != nil {
		t.Fatal(err)
	}
	var linked, ran bool
	var linkEnd, runStart float64
	for _, a := range s.actions {
		if a.kind == "link" && a.pkg == "example.com/traced.test" {
			linked, linkEnd = true, a.end
		}
		if a.kind == "test run" && a.pkg == "example.com/traced" {
			ran, runStart = true, a.start
		}
	}
	if linked && ran && runStart < linkEnd {
		t.Errorf("the test run starts at %.3fs, before its link ends at %.3fs", runStart, linkEnd)
	}
	busy := 0.0
	for _, b := range s.busy {
		busy += b
	}
	if !linked || !ran || s.slots < 1 || s.slots > 2 || busy-s.wall > 1e-6 || s.wall-busy > 1e-6 {
		t.Errorf("linked %v, ran example.com/traced %v, slots %d (want 1-2), busy %.3fs over a %.3fs span: %+v", linked, ran, s.slots, busy, s.wall, s.byKind)
	}
}
