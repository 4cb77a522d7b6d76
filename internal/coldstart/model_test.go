package coldstart

import (
	"flag"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// afterMinutes is config.DefaultFleet's onDemandFallback.afterMinutes; the
// scenario test in lambdas/spotfallback runs the handler with it.
const afterMinutes = 3

// TestModelledColdStart prints the chain before and after and holds the
// issue's target: a job queued on an empty fleet is leased within 4 minutes.
func TestModelledColdStart(t *testing.T) {
	p := DefaultParams()
	steps := p.Steps()
	for _, s := range steps {
		t.Logf("%-8s before %5.0f s  after %5.0f s  [%s]", s.ID, s.Before.Seconds, s.After.Seconds, s.After.Kind)
		if s.Before.Source == "" || s.After.Source == "" || s.Before.Kind == "" {
			t.Errorf("step %s has a figure without a source", s.ID)
		}
	}
	before, after := Total(steps, false), Total(steps, true)
	t.Logf("job queued -> job leased: before %.0f s (%.1f min), after %.0f s (%.1f min), target %d s", before, before/60, after, after/60, TargetSeconds)
	if after > TargetSeconds {
		t.Errorf("modelled cold start %.0f s is over the %d s target", after, TargetSeconds)
	}
	if after >= before {
		t.Errorf("after (%.0f s) is not shorter than before (%.0f s)", after, before)
	}
	for _, sc := range p.Scenarios(afterMinutes) {
		t.Logf("%-70s before %-18s after %s", sc.Name, secs(sc.Before), secs(sc.After))
	}
}

// TestVolumeRateOnlyHelpsWhileTheVolumeLoads: a rate so slow the volume is
// still loading when ComfyUI starts costs the rest of the load; the maximum
// rate costs nothing beyond the warm start once the load ends during the boot.
func TestVolumeRateOnlyHelpsWhileTheVolumeLoads(t *testing.T) {
	p := DefaultParams()
	slow, fast := p.comfyStart(100).Seconds, p.comfyStart(300).Seconds
	lazy := p.comfyStart(0).Seconds
	if !(fast < slow && fast < lazy) {
		t.Errorf("300 MiB/s %.0f s, 100 MiB/s %.0f s, lazy %.0f s", fast, slow, lazy)
	}
	want := p.WarmStartSeconds + math.Max(0, 25*1024/100.0-float64(launchSeconds+bootSeconds))
	if math.Abs(slow-math.Round(want)) > 0 {
		t.Errorf("100 MiB/s: %.0f s, want %.0f s", slow, want)
	}
}

func TestQueueHasJobs(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	for _, c := range []struct {
		queue, desired *float64
		want           float64
		ok             bool
	}{
		{f(1), f(0), 1, true}, {f(1), nil, 1, true}, {f(0), f(0), 0, true}, {f(3), f(1), 0, true}, {nil, f(0), 0, false},
	} {
		got, ok := QueueHasJobs(c.queue, c.desired)
		if got != c.want || ok != c.ok {
			t.Errorf("QueueHasJobs(%v, %v) = %v, %v; want %v, %v", c.queue, c.desired, got, ok, c.want, c.ok)
		}
	}
}

var update = flag.Bool("update-docs", os.Getenv("UPDATE_DOCS") == "1", "rewrite the generated part of docs/scale-from-zero.md")

// TestDocTableIsTheModel: docs/scale-from-zero.md carries exactly the table
// this package renders (run with UPDATE_DOCS=1 after a reviewed change).
func TestDocTableIsTheModel(t *testing.T) {
	path := filepath.Join("..", "..", "docs", "scale-from-zero.md")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want, err := Splice(string(raw), DefaultParams().Doc(afterMinutes))
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if string(raw) != want {
		t.Errorf("%s differs from the model; run UPDATE_DOCS=1 go test ./internal/coldstart and review the diff", path)
	}
	if !strings.Contains(string(raw), "## How to measure") {
		t.Errorf("%s lost its measuring instructions", path)
	}
}
