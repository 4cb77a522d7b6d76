package main

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bp/infra/internal/testtool"
)

// makeDryRun prints the recipe lines make would run in the repository root.
func makeDryRun(t *testing.T, args ...string) []string {
	t.Helper()
	mk := testtool.Require(t, "make", "apt-get install make")
	out, err := exec.Command(mk, append([]string{"-s", "-n", "-C", "../.."}, args...)...).CombinedOutput()
	require.NoError(t, err, "%s", out)
	var lines []string
	for _, l := range strings.Split(string(out), "\n") {
		// Drop the tools install and the usage guard: what is left is synth, check, deploy.
		if l == "" || strings.HasPrefix(l, "test -n") || strings.Contains(l, "npm ci") || strings.HasPrefix(l, "touch ") || strings.HasPrefix(l, "cd .tools") {
			continue
		}
		lines = append(lines, l)
	}
	return lines
}

// make deploy synthesizes once, checks that cdk.out and deploys that very
// cdk.out, with the same selection for the check and the deploy.
func TestMakeDeployChecksWhatItDeploys(t *testing.T) {
	lines := makeDryRun(t, "deploy", "STAGE=staging", `STACKS=network data`, "CDK_APPROVAL=never", "CDK_CONTEXT=-c cluster.servicesStartAtZero=true")
	require.Len(t, lines, 3, "%q", lines)
	assert.Regexp(t, `/\.tools/node_modules/\.bin/cdk synth --quiet --output cdk\.out -c stage=staging -c cluster\.servicesStartAtZero=true$`, lines[0])
	assert.Equal(t, `go run ./tools/preflight --cdk-out cdk.out --stage staging --stacks "network data"`, lines[1])
	assert.Regexp(t, `/\.tools/node_modules/\.bin/cdk deploy --app cdk\.out 'staging/network' 'staging/data' --require-approval never$`, lines[2])

	lines = makeDryRun(t, "deploy", "STAGE=production")
	require.Len(t, lines, 3, "%q", lines)
	assert.Equal(t, `go run ./tools/preflight --cdk-out cdk.out --stage production`, lines[1])
	assert.Regexp(t, `cdk deploy --app cdk\.out 'production/\*' --require-approval broadening$`, lines[2])
}
