package packer_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeAWS puts an `aws` on PATH that records its arguments, one per line.
func fakeAWS(t *testing.T, exitCode string) (pathEnv, argsFile string) {
	t.Helper()
	bin := t.TempDir()
	argsFile = filepath.Join(bin, "args")
	writeFile(t, filepath.Join(bin, "aws"),
		"#!/bin/sh\nfor a in \"$@\"; do printf '%s\\n' \"$a\"; done > \""+argsFile+"\"\nexit "+exitCode+"\n", 0o755)
	return "PATH=" + bin + ":" + os.Getenv("PATH"), argsFile
}

// manifestWith renders a Packer manifest with an older run and the last run
// (artifact and SSM parameter of the last run's build given).
func manifestWith(lastRun, artifact, param string) string {
	return fmt.Sprintf(`{
  "builds": [
    {"name": "gpu-ami", "builder_type": "amazon-ebs", "artifact_id": "us-east-1:ami-0aaaaaaaaaaaaaaaa",
     "packer_run_uuid": "old-run", "custom_data": {"ssm_parameter": "/bp/ami/fleets/staging/gpu-default", "region": "us-east-1"}},
    {"name": "gpu-ami", "builder_type": "amazon-ebs", "artifact_id": %q,
     "packer_run_uuid": "new-run", "custom_data": {"ssm_parameter": %q, "region": "us-east-1"}}
  ],
  "last_run_uuid": %q
}`, artifact, param, lastRun)
}

const (
	goodArtifact = "us-east-1:ami-0123456789abcdef0"
	goodParam    = "/bp/ami/fleets/staging/gpu-default"
)

func TestPublishAMIID_PutsTheLastRunsAMIInSSM(t *testing.T) {
	t.Parallel()
	requireTool(t, "jq")
	manifest := filepath.Join(t.TempDir(), "manifest.json")
	writeFile(t, manifest, manifestWith("new-run", goodArtifact, goodParam), 0o644)
	pathEnv, argsFile := fakeAWS(t, "0")

	mustRun(t, []string{pathEnv}, script(t, "publish-ami-id.sh"), "--manifest", manifest)

	got := strings.Split(strings.TrimSpace(readFile(t, argsFile)), "\n")
	want := []string{"ssm", "put-parameter", "--region", "us-east-1", "--name", "/bp/ami/fleets/staging/gpu-default",
		"--value", "ami-0123456789abcdef0", "--type", "String", "--data-type", "aws:ec2:image", "--overwrite"}
	if !equalStrings(got, want) {
		t.Fatalf("aws called with\n%v\nwant\n%v", got, want)
	}
}

func TestPublishAMIID_Refuses(t *testing.T) {
	t.Parallel()
	requireTool(t, "jq")
	cases := map[string]string{
		"no build of the last run":            manifestWith("other-run", goodArtifact, goodParam),
		"multi-region artifact":               manifestWith("new-run", goodArtifact+",eu-west-1:ami-0fedcba9876543210", goodParam),
		"not an AMI":                          manifestWith("new-run", "us-east-1:snap-0123456789abcdef0", goodParam),
		"parameter outside /<app>/ami/fleets": manifestWith("new-run", goodArtifact, "/bp/staging/ami"),
		"unknown stage":                       manifestWith("new-run", goodArtifact, "/bp/ami/fleets/dev/gpu-default"),
	}
	for name, content := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			manifest := filepath.Join(t.TempDir(), "manifest.json")
			writeFile(t, manifest, content, 0o644)
			pathEnv, argsFile := fakeAWS(t, "0")
			if r := run(t, []string{pathEnv}, script(t, "publish-ami-id.sh"), "--manifest", manifest); r.err == nil {
				t.Fatalf("published despite %s:\n%s", name, r.out)
			}
			if _, err := os.Stat(argsFile); err == nil {
				t.Error("aws was called")
			}
		})
	}
	t.Run("aws failure fails the step", func(t *testing.T) {
		t.Parallel()
		manifest := filepath.Join(t.TempDir(), "manifest.json")
		writeFile(t, manifest, manifestWith("new-run", goodArtifact, goodParam), 0o644)
		pathEnv, _ := fakeAWS(t, "254")
		if r := run(t, []string{pathEnv}, script(t, "publish-ami-id.sh"), "--manifest", manifest); r.err == nil {
			t.Fatalf("publish succeeded although aws failed:\n%s", r.out)
		}
	})
}
