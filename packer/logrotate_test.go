package packer_test

import (
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bp/infra/bootcontract"
	"github.com/bp/infra/packer/internal/bootfiles"
)

// The generated config rotates exactly the unit log files, with copytruncate:
// systemd keeps them open and never reopens them.
func TestLogrotate_RotatesTheUnitLogFiles(t *testing.T) {
	cfg := bootfiles.Logrotate()
	head := strings.SplitN(strings.SplitN(cfg, "\n", 2)[1], " {", 2)[0]
	if got := strings.Fields(head); !equalStrings(got, []string{bootcontract.WorkerLogFile, bootcontract.ComfyUILogFile}) {
		t.Errorf("logrotate rotates %v, want the worker and ComfyUI log files", got)
	}
	for _, d := range []string{"copytruncate", "missingok", "compress"} {
		if !strings.Contains(cfg, "\n    "+d+"\n") {
			t.Errorf("logrotate config lacks %s:\n%s", d, cfg)
		}
	}
}

// Runs logrotate itself on the generated config (log folder moved to a temp
// dir) while a writer holds the file open in append mode, as systemd does:
// the old lines land in the compressed copy and new writes start the file over.
func TestLogrotate_CopytruncateKeepsTheUnitWriting(t *testing.T) {
	t.Parallel()
	logrotate := requireTool(t, "logrotate")
	dir := t.TempDir()
	logDir := filepath.Join(dir, "log")
	must(t, os.MkdirAll(logDir, 0o750))
	cfgPath := filepath.Join(dir, "comfyui-worker")
	writeFile(t, cfgPath, strings.ReplaceAll(bootfiles.Logrotate(), bootcontract.LogDir+"/", logDir+"/"), 0o644)

	logFile := filepath.Join(logDir, filepath.Base(bootcontract.WorkerLogFile))
	f, err := os.OpenFile(logFile, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	must(t, err)
	defer f.Close()
	_, err = f.WriteString("{\"msg\":\"before rotation\"}\n")
	must(t, err)

	mustRun(t, nil, logrotate, "--force", "--state", filepath.Join(dir, "state"), cfgPath)

	rotated, err := os.Open(logFile + ".1.gz")
	if err != nil {
		t.Fatalf("no compressed copy after rotation: %v", err)
	}
	defer rotated.Close()
	zr, err := gzip.NewReader(rotated)
	must(t, err)
	old, err := io.ReadAll(zr)
	must(t, err)
	if string(old) != "{\"msg\":\"before rotation\"}\n" {
		t.Errorf("rotated copy = %q", old)
	}
	_, err = f.WriteString("{\"msg\":\"after rotation\"}\n")
	must(t, err)
	if got := readFile(t, logFile); got != "{\"msg\":\"after rotation\"}\n" {
		t.Errorf("log file after rotation = %q, want only the new line (append mode after truncate)", got)
	}
}
