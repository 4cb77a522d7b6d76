package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const handworkedProfile = "testdata/profiles/handworked.json"

func projectionsOf(t *testing.T, args ...string) []Projection {
	t.Helper()
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), append(args, "--format", "json"), &out, quietLogger()))
	var r Report
	require.NoError(t, json.Unmarshal(out.Bytes(), &r))
	return r.Projections
}

func lineOf(t *testing.T, p Projection, key string) HotspotLine {
	t.Helper()
	for _, l := range p.Lines {
		if l.Key() == key {
			return l
		}
	}
	t.Fatalf("no line %s in the %s projection; lines: %+v", key, p.Stage, p.Lines)
	return HotspotLine{}
}

// TestProjectionWorkedByHand projects the one-of-each fixture with round
// numbers (testdata/profiles/handworked.json). The expected amounts come from
// AWS list prices, worked out here by hand:
//
//	g4dn.xlarge $0.526/h, Spot estimated at 45% = $0.2367/h; EBS gp3 $0.08/GB-month
//	NAT gateway $0.045/GB processed, NAT instance no per-GB fee
//	same-region public IPv4 and cross-AZ transfer $0.01/GB each direction (both sides billed)
//	CloudWatch Logs $0.50/GB ingested, $0.03/GB-month stored; a month is 730/24 days
//	RDS gp3 $0.115/GB-month single-AZ; CloudFront $0.085/GB + $0.01/10,000 HTTPS requests
//	S3 to the internet $0.09/GB; an internal ALB $0.0225/h
func TestProjectionWorkedByHand(t *testing.T) {
	projs := projectionsOf(t, "--cdk-out", everyOut, "--profile", handworkedProfile)
	require.Len(t, projs, 2)
	prod, stg := projs[0], projs[1]
	require.Equal(t, "staging", stg.Stage)

	// staging: one all-Spot g4dn.xlarge fleet with 100 GB gp3, a NAT instance, S3
	// gateway endpoint, internet-facing ALB, subnets in 2 AZs, 7-day logs, RDS 20 GB
	// (max 100) single-AZ with Performance Insights at the free 7 days, CloudFront PriceClass_100.
	gpu := lineOf(t, stg, "gpu/bp-staging-gpu-default")
	// 1024 jobs x 3.75 min = 64 h + 48 starts x 20 min = 16 h = 80 h
	// 80 h x 0.2367 = 18.936; EBS 100 GB x 0.08 x 80/730 = 0.876712
	assert.InDelta(t, 18.936+0.876712, gpu.MonthlyUSD, 1e-5)
	require.NotNil(t, gpu.StuckPerDay)
	assert.InDelta(t, 0.2367*24, gpu.StuckPerDay.SpotUSD, 1e-9)    // 5.6808
	assert.InDelta(t, 0.526*24, gpu.StuckPerDay.OnDemandUSD, 1e-9) // 12.624
	assert.Contains(t, gpu.Driver, "1,024 jobs × 3.75 min = 64 h + 48 starts × 20 min = 16 h; 80 h × $0.2367/h Spot g4dn.xlarge = $18.94")
	assert.Contains(t, gpu.Driver, "a stuck instance costs $5.68/day Spot / $12.62/day on-demand")

	nat := lineOf(t, stg, "nat/egress")
	// worker<->backend: 1024 jobs x 10 MiB = 10 GB + 80 instance-h x 128 MiB = 10 GB = 20 GB;
	// logs sent from the VPC (no logs endpoint): 2 GB/day x 730/24 days x 0.5 = 30.416667 GB;
	// through the NAT instance 20 + 5 other + 30.416667 = 55.416667 GB, no processing fee;
	// public IPv4 NAT->ALB 20 GB x 0.02 = 0.40; cross-AZ: 1 NAT for 2 AZs, half of 55.416667 GB x 0.02 = 0.554167;
	// S3 and ECR layers ride the gateway endpoint: free
	assert.InDelta(t, 0.40+0.554167, nat.MonthlyUSD, 1e-6)
	assert.Contains(t, nat.Driver, "NAT instance t4g.nano x1 (no per-GB processing fee)")
	assert.Contains(t, nat.Driver, "= 20 GB (placeholder)")
	assert.Contains(t, nat.Driver, "the S3 gateway endpoint carries, free, job and model-sync S3 bytes 49 GB and ECR image layers 5 GB")

	logs := lineOf(t, stg, "logs/cloudwatch")
	// 2 GB/day x 730/24 days x 0.50 = 30.416667 ingested; stored 2 x 7 days = 14 GB x 0.03 = 0.42
	assert.InDelta(t, 30.416667+0.42, logs.MonthlyUSD, 1e-5)

	rds := lineOf(t, stg, "rds/Database")
	// data 10 + 5 x 12 = 70 GB needs 70/0.9 = 77.78 GB: +57.78 GB x 0.115 = 6.644444
	assert.InDelta(t, (70/0.9-20)*0.115, rds.MonthlyUSD, 1e-9)
	assert.Contains(t, rds.Driver, "Performance Insights 7-day retention: free")

	egress := lineOf(t, stg, "egress/media")
	// CloudFront 100 GB x 0.085 = 8.50 + 1,000,000 / 10,000 x 0.01 = 1.00; S3 10 GB x 0.09 = 0.90
	assert.InDelta(t, 8.50+1.00+0.90, egress.MonthlyUSD, 1e-9)

	assert.InDelta(t, 18.936+0.876712+0.954167+30.836667+6.644444+10.40, stg.MonthlyUSD, 1e-5)
	require.NotNil(t, stg.InternalALB)
	// NAT instance: no processing to save, only the public-IPv4 transfer: 16.425 / 0.02 = 821.25 GB
	assert.InDelta(t, 0, stg.InternalALB.BreakEvenGB, 1e-9)
	assert.InDelta(t, 821.25, stg.InternalALB.WithTransferGB, 1e-9)
	assert.InDelta(t, 20, stg.InternalALB.ProfileGB, 1e-9)
	assert.Equal(t, []Placeholder{{Field: "worker_api_bytes_per_job", Source: "10 MiB, stands in for TestJobNetworkBytes"}}, stg.Placeholders)

	// production: no GPU fleet, one NAT gateway, no S3 gateway endpoint, a logs interface endpoint, internal ALB,
	// no log group, RDS 50 GB Multi-AZ without storage autoscaling, no CloudFront.
	nat = lineOf(t, prod, "nat/egress")
	// S3 1024 x 1 MiB = 1 GB + 48 starts x 1 GiB = 48 GB; ECR layers 10 x 512 MiB = 5 GB; other 5 GB
	// = 59 GB x 0.045 = 2.655 processing; cross-AZ half: 29.5 GB x 0.02 = 0.59; internal ALB: no
	// worker bytes through NAT; logs from the VPC take the logs endpoint: 30.416667 GB x 0.01 = 0.304167
	assert.InDelta(t, 2.655+0.59+0.304167, nat.MonthlyUSD, 1e-6)
	assert.Contains(t, nat.Driver, "logs sent from the VPC 30.42 GB via the logs endpoint × $0.01 = $0.30")
	assert.Contains(t, nat.Driver, "the ALB is internal")
	assert.Contains(t, nat.Driver, "no S3 gateway endpoint: NAT also carries")
	rds = lineOf(t, prod, "rds/Database")
	assert.InDelta(t, 0, rds.MonthlyUSD, 1e-9)
	assert.Contains(t, rds.Driver, "NO STORAGE AUTOSCALING: the 50 GB allocated run out before month 12")
	// 30.416667 ingested (no log group to keep them) + S3 egress 0.90; no CloudFront
	assert.InDelta(t, 2.655+0.59+0.304167+30.416667+0.90, prod.MonthlyUSD, 1e-5)
	assert.Nil(t, prod.InternalALB, "the ALB is already internal")
}

// TestInternalALBBreakEvenWithNATGateways: $0.0225/h x 730 = $16.425 a month
// against $0.045/GB of NAT gateway processing is 365 GB; counting the
// $0.02/GB same-region public-IPv4 transfer too, 16.425 / 0.065 = 252.7 GB.
func TestInternalALBBreakEvenWithNATGateways(t *testing.T) {
	projs := projectionsOf(t, "--cdk-out", baseOut, "--stage", "staging", "--profile", handworkedProfile)
	require.Len(t, projs, 1)
	be := projs[0].InternalALB
	require.NotNil(t, be)
	assert.InDelta(t, 365, be.BreakEvenGB, 1e-9)
	assert.InDelta(t, 16.425/0.065, be.WithTransferGB, 1e-9)
	assert.Contains(t, be.Text, "break-even 365 GB/month (253 GB counting")
}

func TestEachStageUsesItsOwnProfileByDefault(t *testing.T) {
	projs := projectionsOf(t, "--cdk-out", everyOut)
	require.Len(t, projs, 2)
	assert.Equal(t, "production", projs[0].Profile)
	assert.Equal(t, "tools/cost/profiles/production.json", projs[0].ProfilePath)
	assert.Equal(t, "staging", projs[1].Profile)
	assert.Empty(t, projectionsOf(t, "--cdk-out", everyOut, "--profile", "none"))

	var table bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"--cdk-out", everyOut, "--stage", "staging"}, &table, quietLogger()))
	out := table.String()
	assert.Contains(t, out, "=== stage staging, profile staging (tools/cost/profiles/staging.json): usage $")
	for _, label := range []string{"\n  GPU ", "\n  NAT ", "\n  Logs ", "\n  RDS ", "\n  Egress ", "\n  Break-even "} {
		assert.Contains(t, out, label)
	}
	// The committed profiles carry measurements where a test measures them:
	// no placeholder is listed and the NAT line is not marked as one.
	assert.NotContains(t, out, "  placeholder ")
	assert.NotContains(t, out, "(placeholder)")
}

func TestCommittedProfilesAreValidAndDocumented(t *testing.T) {
	doc, err := os.ReadFile("profiles/README.md")
	require.NoError(t, err)
	for _, name := range []string{"staging", "production"} {
		p, err := LoadProfile(name)
		require.NoError(t, err, name)
		assert.Equal(t, name, p.Name)
		for _, f := range p.fields() {
			assert.Contains(t, string(doc), "`"+f.name+"`", "profiles/README.md documents %s", f.name)
			assert.Contains(t, string(doc), f.unit, "profiles/README.md gives the unit of %s", f.name)
		}
		assert.Empty(t, p.Placeholders(), name)
		// TestJobNetworkBytes (worker/internal/cli) measures these two and
		// fails when a profile strays more than 1.5x from its measurement.
		for _, q := range []Quantity{p.WorkerAPIBytesPerJob, p.WorkerAPIBytesPerInstanceHour} {
			assert.Contains(t, q.Source, "measured by TestJobNetworkBytes", name)
		}
	}
}

func TestBadProfilesNameTheFieldAndTheFix(t *testing.T) {
	good, err := os.ReadFile(handworkedProfile)
	require.NoError(t, err)
	write := func(mutate func(m map[string]any)) string {
		var m map[string]any
		require.NoError(t, json.Unmarshal(good, &m))
		mutate(m)
		raw, err := json.Marshal(m)
		require.NoError(t, err)
		path := filepath.Join(t.TempDir(), "p.json")
		require.NoError(t, os.WriteFile(path, raw, 0o644))
		return path
	}
	field := func(m map[string]any, name string) map[string]any { return m[name].(map[string]any) }
	cases := []struct {
		name   string
		mutate func(m map[string]any)
		want   []string
	}{
		{"wrong unit", func(m map[string]any) { field(m, "log_gb_per_day")["unit"] = "GB/month" },
			[]string{`field log_gb_per_day: unit "GB/month" is not the expected "GB/day"`}},
		{"missing field", func(m map[string]any) { delete(m, "jobs_per_month") },
			[]string{"field jobs_per_month is missing", `"unit": "jobs/month"`}},
		{"negative", func(m map[string]any) { field(m, "other_nat_gb_per_month")["value"] = -1 },
			[]string{"field other_nat_gb_per_month: value -1 must be a number >= 0"}},
		{"no source", func(m map[string]any) { field(m, "rds_data_gb")["source"] = " " },
			[]string{"field rds_data_gb: source is empty"}},
		{"unknown field", func(m map[string]any) { m["nat_gb"] = map[string]any{"value": 1} },
			[]string{`unknown field "nat_gb"`, "profiles/README.md"}},
	}
	for _, c := range cases {
		_, err := LoadProfile(write(c.mutate))
		require.Error(t, err, c.name)
		for _, w := range c.want {
			assert.Contains(t, err.Error(), w, c.name)
		}
	}
	_, err = LoadProfile("peak")
	assert.ErrorContains(t, err, `no usage profile "peak": add tools/cost/profiles/peak.json or pass a file path`)
}

func TestDiffShowsTheProjectionChange(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"--cdk-out", headOut, "--diff", baseOut, "--profile", handworkedProfile, "--format", "json"}, &out, quietLogger()))
	var d DiffReport
	require.NoError(t, json.Unmarshal(out.Bytes(), &d))
	require.Len(t, d.Projections, 2)
	staging := d.Projections[1]
	require.Equal(t, "staging", staging.Stage)
	// The head adds a second NAT gateway for the 2 AZs: the cross-AZ transfer to the
	// one NAT goes away. Base: NAT carries worker<->backend 20 GB + other 5 GB + logs
	// from the VPC 30.416667 GB = 55.416667 GB; half of it crossed AZs: x 0.02 = 0.554167.
	// Nothing else changes.
	var keys []string
	for _, l := range staging.Lines {
		keys = append(keys, l.Key)
	}
	assert.Equal(t, []string{"nat/egress"}, keys)
	assert.InDelta(t, -0.554167, staging.DeltaUSD, 1e-6)

	var table bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"--cdk-out", headOut, "--diff", baseOut, "--profile", handworkedProfile}, &table, quietLogger()))
	assert.Contains(t, table.String(), "Usage projection change (same profile on both sides)")
	assert.Contains(t, table.String(), "changed nat/egress:")
	assert.True(t, strings.Contains(table.String(), "(-$0.55)"), table.String())
}
