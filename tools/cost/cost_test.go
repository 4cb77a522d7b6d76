package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bp/infra/internal/cfn"
)

const (
	baseOut = "testdata/base/cdk.out" // nested assemblies, one per stage
	headOut = "testdata/head/cdk.out" // flat layout, the "changed" app
	cents   = 0.005
)

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func loadReport(t *testing.T, dir string) Report {
	t.Helper()
	p, err := LoadPrices("us-east-1", "")
	require.NoError(t, err)
	stacks, err := cfn.LoadAssembly(dir, "bp")
	require.NoError(t, err)
	return buildReport(stacks, p)
}

func stackTotal(t *testing.T, r Report, stage, stack string) float64 {
	t.Helper()
	for _, s := range r.Stages {
		if s.Name != stage {
			continue
		}
		for _, k := range s.Stacks {
			if k.Name == stack {
				return k.MonthlyUSD
			}
		}
	}
	t.Fatalf("stack %s/%s not in report", stage, stack)
	return 0
}

func TestStackTotalsWorkedByHand(t *testing.T) {
	r := loadReport(t, baseOut)
	cases := []struct {
		stage, stack string
		want         float64
	}{
		// NAT 0.045*730 = 32.85 + EIP 0.005*730 = 3.65
		// + secretsmanager interface endpoint 2 AZ * 0.01*730 = 14.60 (S3 gateway endpoint free)
		{"staging", "bp-staging-network", 32.85 + 3.65 + 14.60},
		// RDS db.t4g.small single-AZ 0.032*730 = 23.36 + gp3 20 GB * 0.115 = 2.30
		// + cache.t4g.micro x1 0.016*730 = 11.68 + 2 secrets * 0.40 = 0.80 + 1 KMS key 1.00
		{"staging", "bp-staging-data", 23.36 + 2.30 + 11.68 + 0.80 + 1.00},
		// ALB 0.0225*730 = 16.425 + 2 AZ nodes * 0.005*730 = 7.30
		// backend task ARM64 0.5 vCPU/1 GB: (0.5*0.0259 + 1*0.00285)*730 = 11.534 per task-month;
		//   desired 2, FARGATE base 1 weight 1 + FARGATE_SPOT weight 1 -> 1.5 on-demand, 0.5 Spot
		//   1.5*11.534 = 17.301, 0.5*11.534*0.30 = 1.7301
		// frontend x86 0.25 vCPU/0.5 GB: (0.25*0.03238 + 0.5*0.00356)*730 = 7.20875, cluster default
		//   strategy FARGATE_SPOT only -> 1 Spot task * 7.20875*0.30 = 2.162625
		{"staging", "bp-staging-compute", 16.425 + 7.30 + 17.301 + 1.7301 + 2.162625},
		// GPU fleet at min 0 costs nothing at idle; 2 plain alarms * 0.10 = 0.20
		{"staging", "bp-staging-gpu-fleet", 0.20},
		// 3 plain alarms + 1 metric-math alarm with 2 metrics = 5 * 0.10 = 0.50; 1 dashboard 3.00
		{"staging", "bp-staging-observability", 0.50 + 3.00},
		// NAT instance t4g.nano 0.0042*730 = 3.066 + its public IP 3.65 + 8 GB gp3 root 8*0.08 = 0.64
		// + endpoint 14.60
		{"production", "bp-production-network", 3.066 + 3.65 + 0.64 + 14.60},
		// RDS db.t4g.medium Multi-AZ 0.065*2*730 = 94.90 + gp3 20 GB * 0.23 = 4.60 + secrets 0.80 + key 1.00;
		// cache.r7g.large is unpriced and left out
		{"production", "bp-production-data", 94.90 + 4.60 + 0.80 + 1.00},
		// min 1, all Spot: g5.xlarge 1.006*0.45*730 = 330.471 + EBS 100 GB * 0.08 = 8.00 + 2 alarms 0.20
		{"production", "bp-production-gpu-fleet", 330.471 + 8.00 + 0.20},
	}
	sum := 0.0
	for _, c := range cases {
		assert.InDelta(t, c.want, stackTotal(t, r, c.stage, c.stack), 1e-6, "%s/%s", c.stage, c.stack)
		sum += c.want
	}
	assert.InDelta(t, sum, r.MonthlyUSD, 1e-6, "total is the sum of the stacks")
	assert.InDelta(t, 138.858725, r.Stages[1].MonthlyUSD, 1e-6, "staging")
}

func TestUnknownTypesAreFlaggedNotZero(t *testing.T) {
	var out bytes.Buffer
	err := run(context.Background(), []string{"--cdk-out", baseOut, "--format", "json"}, &out, quietLogger())
	require.NoError(t, err)
	var r Report
	require.NoError(t, json.Unmarshal(out.Bytes(), &r))
	var items []string
	for _, u := range r.Unpriced {
		items = append(items, u.Stage+"/"+u.Stack+": "+u.Item)
	}
	assert.Equal(t, []string{
		"production/bp-production-data: ElastiCache redis cache.r7g.large x 4 (2 shards x 2 nodes)",
		"production/bp-production-gpu-fleet: EC2 g6e.xlarge on-demand",
	}, items)

	var table bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"--cdk-out", baseOut}, &table, quietLogger()))
	assert.Contains(t, table.String(), "WARNING: 2 UNPRICED items")
	assert.Contains(t, table.String(), "UNPRICED: node type cache.r7g.large has no redis price in the price file")

	err = run(context.Background(), []string{"--cdk-out", baseOut, "--fail-on-unpriced"}, io.Discard, quietLogger())
	assert.True(t, errors.Is(err, errUnpriced), "got %v", err)
}

func TestJSONRoundTrips(t *testing.T) {
	want := loadReport(t, baseOut)
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"--cdk-out", baseOut, "--format", "json", "--profile", "none"}, &out, quietLogger()))
	var got Report
	dec := json.NewDecoder(&out)
	dec.DisallowUnknownFields()
	require.NoError(t, dec.Decode(&got))
	assert.Equal(t, want, got)
}

func TestOutputIsDeterministic(t *testing.T) {
	var a, b bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"--cdk-out", baseOut}, &a, quietLogger()))
	require.NoError(t, run(context.Background(), []string{"--cdk-out", baseOut}, &b, quietLogger()))
	assert.Equal(t, a.String(), b.String())
	// Stages and stacks come out sorted.
	s := a.String()
	assert.Less(t, strings.Index(s, "=== stage production"), strings.Index(s, "=== stage staging"))
	assert.Less(t, strings.Index(s, "--- bp-staging-compute"), strings.Index(s, "--- bp-staging-network"))
}

func TestFlatLayoutFindsStagesFromDisplayNames(t *testing.T) {
	r := loadReport(t, headOut)
	var names []string
	for _, s := range r.Stages {
		names = append(names, s.Name)
	}
	assert.Equal(t, []string{"production", "staging"}, names)
}

func TestDiffShowsWhatAChangeAddsOrRemoves(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"--cdk-out", headOut, "--diff", baseOut, "--format", "json"}, &out, quietLogger()))
	var d DiffReport
	require.NoError(t, json.Unmarshal(out.Bytes(), &d))

	// staging: + second NAT gateway 32.85 + its EIP 3.65 = +36.50
	// backend DesiredCount 2 -> 3: base 1 + 2 by weight -> 2 on-demand, 1 Spot:
	//   on-demand 2*11.534 - 17.301 = +5.767; Spot 1*3.4602 - 1.7301 = +1.7301
	// dashboard removed: -3.00
	wantStaging := 36.50 + 5.767 + 1.7301 - 3.00
	require.Len(t, d.Stages, 2)
	assert.Equal(t, "production", d.Stages[0].Name)
	assert.InDelta(t, 0, d.Stages[0].DeltaUSD, 1e-9)
	assert.Empty(t, d.Stages[0].Stacks, "production did not change")
	staging := d.Stages[1]
	assert.InDelta(t, wantStaging, staging.DeltaUSD, 1e-6)
	assert.InDelta(t, wantStaging, d.DeltaUSD, 1e-6)
	assert.InDelta(t, d.HeadUSD-d.BaseUSD, d.DeltaUSD, 1e-9)

	got := map[string]ItemDiff{}
	var stacks []string
	for _, s := range staging.Stacks {
		stacks = append(stacks, s.Name)
		for _, it := range s.Items {
			got[s.Name+" "+it.Key] = it
		}
	}
	assert.Equal(t, []string{"bp-staging-compute", "bp-staging-network", "bp-staging-observability"}, stacks)
	assert.Len(t, got, 5)
	check := func(key, change string, delta float64) {
		t.Helper()
		it, ok := got[key]
		if assert.True(t, ok, key) {
			assert.Equal(t, change, it.Change, key)
			assert.InDelta(t, delta, it.DeltaUSD, 1e-6, key)
		}
	}
	check("bp-staging-network nat-gateway/VpcPublicSubnet2NATGatewayE0556630", changeAdded, 32.85)
	check("bp-staging-network public-ipv4/VpcPublicSubnet2EIP6AD938E8", changeAdded, 3.65)
	check("bp-staging-compute fargate/BackendService9F6A7B8C/on-demand", changeChanged, 5.767)
	check("bp-staging-compute fargate/BackendService9F6A7B8C/spot", changeChanged, 1.7301)
	check("bp-staging-observability dashboards", changeRemoved, -3.00)

	var table bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"--cdk-out", headOut, "--diff", baseOut}, &table, quietLogger()))
	// 40.9971 rounds to 41.00
	assert.Contains(t, table.String(), "TOTAL change: +$41.00/month")
	assert.Contains(t, table.String(), "added  NAT gateway")
}

func TestSplitTasksFollowsBaseThenWeights(t *testing.T) {
	s := []strategyEntry{{provider: providerFargate, base: 2, weight: 1}, {provider: providerFargateSpot, weight: 3}}
	// 6 tasks: 2 base on FARGATE, then 4 split 1:3 -> FARGATE 2+1 = 3, Spot 3
	assert.Equal(t, map[string]float64{providerFargate: 3, providerFargateSpot: 3}, splitTasks(6, s))
	// 1 task: the base takes it
	assert.Equal(t, map[string]float64{providerFargate: 1, providerFargateSpot: 0}, splitTasks(1, s))
}

func TestRejectsBadFlags(t *testing.T) {
	err := run(context.Background(), []string{"--format", "yaml"}, io.Discard, quietLogger())
	assert.ErrorContains(t, err, "unknown --format")
	err = run(context.Background(), []string{"--cdk-out", "testdata/missing"}, io.Discard, quietLogger())
	assert.ErrorContains(t, err, "read cloud-assembly manifest")
	err = run(context.Background(), []string{"--cdk-out", baseOut, "--stage", "qa"}, io.Discard, quietLogger())
	assert.ErrorIs(t, err, cfn.ErrNoStage)
}

func TestDiffOfANewStageAddsEverything(t *testing.T) {
	// A base assembly with only the staging GPU fleet stack.
	dir := t.TempDir()
	const id = "stagingbpstaginggpufleet5E6F7A8B"
	tpl, err := os.ReadFile(filepath.Join(headOut, id+".template.json"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, id+".template.json"), tpl, 0o644))
	manifest := `{"version":"48.0.0","artifacts":{"` + id + `":{"type":"aws:cloudformation:stack",` +
		`"properties":{"templateFile":"` + id + `.template.json","stackName":"bp-staging-gpu-fleet"},"displayName":"staging/bp-staging-gpu-fleet"}}}`
	require.NoError(t, os.WriteFile(filepath.Join(dir, "manifest.json"), []byte(manifest), 0o644))

	var out bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"--cdk-out", baseOut, "--diff", dir, "--stage", "production", "--format", "json"}, &out, quietLogger()))
	var d DiffReport
	require.NoError(t, json.Unmarshal(out.Bytes(), &d))
	// production stacks, worked out above: network 3.066+3.65+0.64+14.60 = 21.956, data 101.30, fleet 338.671
	assert.InDelta(t, 21.956+101.30+338.671, d.DeltaUSD, 1e-6)
	require.Len(t, d.Stages, 1)
	for _, s := range d.Stages[0].Stacks {
		assert.Equal(t, changeAdded, s.Change, s.Name)
	}
}
