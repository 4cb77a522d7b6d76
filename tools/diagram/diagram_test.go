package main

import (
	"bytes"
	"context"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bp/infra/internal/cfn"
)

// The cost report's fixture app (nested assemblies, five staging stacks) is
// the diagram's fixture too.
const fixtureOut = "../cost/testdata/base/cdk.out"

var update = flag.Bool("update", false, "rewrite the golden DOT files")

func TestGoldenDOT(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"--cdk-out", fixtureOut, "--stage", "staging"}, &out))
	golden := filepath.Join("testdata", "staging.golden.dot")
	if *update {
		require.NoError(t, os.WriteFile(golden, out.Bytes(), 0o644))
	}
	want, err := os.ReadFile(golden)
	require.NoError(t, err)
	assert.Equal(t, string(want), out.String())
}

// TestFixtureFlows reads the older, nested fixture assembly (other logical
// ids, no security-group egress rules): the flows still come from its
// listener, ingress rule, CloudFront origin, alarm actions and subscription.
func TestFixtureFlows(t *testing.T) {
	stacks, err := cfn.LoadAssembly(fixtureOut, "bp")
	require.NoError(t, err)
	staging, err := cfn.StageStacks(stacks, "staging")
	require.NoError(t, err)
	d := buildDiagram("staging", staging)
	edges := map[string]bool{}
	for _, e := range d.Edges {
		edges[e.From+" -> "+e.To] = true
	}
	for _, want := range []string{
		// the listener's default action forwards to the backend's target group
		"bp_staging_compute__Alb16C2F182 -> bp_staging_compute__BackendService9F6A7B8C",
		// an ingress rule in compute lets the backend's group into the DB group
		"bp_staging_compute__BackendService9F6A7B8C -> bp_staging_data__DatabaseB269D8BB",
		// the CloudFront origin is the media bucket
		"bp_staging_compute__MediaDistribution1B8C9DAE -> bp_staging_data__MediaBucketBCBB02BA",
		// alarm action -> scaling policy -> ASG; subscription ties topic to Lambda
		"bp_staging_gpu_fleet__alarms -> bp_staging_gpu_fleet__FleetGpuDefaultAsg3DAEBFC0",
		"bp_staging_gpu_fleet__FleetGpuDefaultScaleToZeroTopic4EBFC0D1 -> bp_staging_gpu_fleet__FleetGpuDefaultScaleToZeroFn60D1E2F3",
	} {
		assert.True(t, edges[want], "missing edge %s", want)
	}
	// Services that only share the cluster are not linked to each other.
	assert.False(t, edges["bp_staging_compute__BackendService9F6A7B8C -> bp_staging_compute__FrontendService0A7B8C9D"])
	// Alarms are one node per stack.
	var alarmNodes []string
	for _, n := range d.Nodes {
		if n.Kind == "alarms" {
			alarmNodes = append(alarmNodes, n.Label)
		}
	}
	assert.Equal(t, []string{`CloudWatch alarms\n2`, `CloudWatch alarms\n4`}, alarmNodes)
}

func TestDeterministicAndFlatLayout(t *testing.T) {
	var a, b bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"--cdk-out", fixtureOut, "--stage", "production"}, &a))
	require.NoError(t, run(context.Background(), []string{"--cdk-out", fixtureOut, "--stage", "production"}, &b))
	assert.Equal(t, a.String(), b.String())
	// The flat fixture holds the same production stacks.
	var flat bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"--cdk-out", "../cost/testdata/head/cdk.out", "--stage", "production"}, &flat))
	assert.Equal(t, a.String(), flat.String())
	assert.Contains(t, a.String(), `label="NAT\nNatInstance"`)
}

func TestUnknownStage(t *testing.T) {
	err := run(context.Background(), []string{"--cdk-out", fixtureOut, "--stage", "qa"}, &bytes.Buffer{})
	assert.ErrorIs(t, err, cfn.ErrNoStage)
}

func TestDotRendersSVG(t *testing.T) {
	dot, err := exec.LookPath("dot")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("graphviz dot is required in CI (apt-get install graphviz)")
		}
		t.Skip("graphviz dot not installed")
	}
	path := filepath.Join(t.TempDir(), "architecture.dot")
	require.NoError(t, run(context.Background(), []string{"--cdk-out", fixtureOut, "--stage", "staging", "-o", path}, &bytes.Buffer{}))
	cmd := exec.Command(dot, "-Tsvg", path)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	svg, err := cmd.Output()
	require.NoError(t, err, stderr.String())
	assert.True(t, strings.Contains(string(svg), "<svg"), "no SVG produced")
	assert.Contains(t, string(svg), "ECS service") // node labels made it through
}
