package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/bp/infra/internal/cfn"
)

// projectStages projects every stage of the report. ref is profileAuto (each
// stage's own embedded profile; a stage without one gets a note),
// profileNone, or one profile (name or path) for every stage.
func projectStages(stacks []cfn.Stack, stages []string, ref string, p *Prices) ([]Projection, error) {
	if ref == profileNone {
		return nil, nil
	}
	var shared *Profile
	if ref != profileAuto {
		pr, err := LoadProfile(ref)
		if err != nil {
			return nil, err
		}
		shared = pr
	}
	var out []Projection
	for _, stage := range stages {
		pr := shared
		if pr == nil {
			if !hasEmbeddedProfile(stage) {
				out = append(out, Projection{Stage: stage, Note: "no usage profile tools/cost/profiles/" + stage + ".json: no projection (pass --profile)"})
				continue
			}
			loaded, err := LoadProfile(stage)
			if err != nil {
				return nil, err
			}
			pr = loaded
		}
		out = append(out, project(readStageFacts(stage, stacks, p), pr, p))
	}
	return out, nil
}

// writeProjections prints each stage's usage projection: one line per
// hotspot with its monthly cost and driver, then the internal-ALB
// break-even and the profile fields that are placeholders.
func writeProjections(w io.Writer, r Report) error {
	if len(r.Projections) == 0 {
		return nil
	}
	b := &strings.Builder{}
	fmt.Fprintf(b, "\nUsage projection per month, on top of the fixed idle cost (GB = 2^30 bytes; %s)\n", r.PriceAsOf+" prices")
	fixed := map[string]float64{}
	for _, s := range r.Stages {
		fixed[s.Name] = s.MonthlyUSD
	}
	for _, proj := range r.Projections {
		if proj.Note != "" {
			fmt.Fprintf(b, "\n=== stage %s: %s\n", proj.Stage, proj.Note)
			continue
		}
		fmt.Fprintf(b, "\n=== stage %s, profile %s (%s): usage %s/month; with the fixed %s: %s/month\n",
			proj.Stage, proj.Profile, proj.ProfilePath, usd(proj.MonthlyUSD), usd(fixed[proj.Stage]), usd(proj.MonthlyUSD+fixed[proj.Stage]))
		for _, l := range proj.Lines {
			fmt.Fprintf(b, "  %-10s %10s  %s\n", hotspotLabel(l.Hotspot), usd(l.MonthlyUSD), l.Driver)
		}
		if proj.InternalALB != nil {
			fmt.Fprintf(b, "  %-10s %10s  %s\n", "Break-even", "", proj.InternalALB.Text)
		}
		for _, u := range proj.Unpriced {
			fmt.Fprintf(b, "  UNPRICED: %s\n", u)
		}
		for _, ph := range proj.Placeholders {
			fmt.Fprintf(b, "  placeholder %s: %s\n", ph.Field, ph.Source)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func hotspotLabel(h string) string {
	switch h {
	case "gpu":
		return "GPU"
	case "nat":
		return "NAT"
	case "logs":
		return "Logs"
	case "rds":
		return "RDS"
	case "egress":
		return "Egress"
	}
	return h
}

// ProjectionDiff is how a change moves one stage's usage projection under
// the same profile.
type ProjectionDiff struct {
	Stage    string     `json:"stage"`
	Profile  string     `json:"profile"`
	BaseUSD  float64    `json:"base_monthly_usd"`
	HeadUSD  float64    `json:"head_monthly_usd"`
	DeltaUSD float64    `json:"delta_monthly_usd"`
	Lines    []LineDiff `json:"lines"`
}

// LineDiff is one hotspot line that was added, removed or changed.
type LineDiff struct {
	Key        string  `json:"key"`
	Change     string  `json:"change"`
	BaseDriver string  `json:"base_driver,omitempty"`
	HeadDriver string  `json:"head_driver,omitempty"`
	BaseUSD    float64 `json:"base_monthly_usd"`
	HeadUSD    float64 `json:"head_monthly_usd"`
	DeltaUSD   float64 `json:"delta_monthly_usd"`
}

func diffProjections(base, head []Projection) []ProjectionDiff {
	b, h := map[string]Projection{}, map[string]Projection{}
	for _, p := range base {
		b[p.Stage] = p
	}
	for _, p := range head {
		h[p.Stage] = p
	}
	var out []ProjectionDiff
	for _, stage := range unionKeys(b, h) {
		bp, hp := b[stage], h[stage]
		if bp.Note != "" && hp.Note != "" {
			continue
		}
		d := ProjectionDiff{Stage: stage, Profile: hp.Profile, BaseUSD: bp.MonthlyUSD, HeadUSD: hp.MonthlyUSD, DeltaUSD: hp.MonthlyUSD - bp.MonthlyUSD}
		if d.Profile == "" {
			d.Profile = bp.Profile
		}
		bl, hl := map[string]HotspotLine{}, map[string]HotspotLine{}
		for _, l := range bp.Lines {
			bl[l.Key()] = l
		}
		for _, l := range hp.Lines {
			hl[l.Key()] = l
		}
		for _, key := range unionKeys(bl, hl) {
			x, inBase := bl[key]
			y, inHead := hl[key]
			ld := LineDiff{Key: key, BaseDriver: x.Driver, HeadDriver: y.Driver, BaseUSD: x.MonthlyUSD, HeadUSD: y.MonthlyUSD, DeltaUSD: y.MonthlyUSD - x.MonthlyUSD}
			switch {
			case !inBase:
				ld.Change = changeAdded
			case !inHead:
				ld.Change = changeRemoved
			case x.Driver != y.Driver || !near(x.MonthlyUSD, y.MonthlyUSD):
				ld.Change = changeChanged
			default:
				continue
			}
			d.Lines = append(d.Lines, ld)
		}
		out = append(out, d)
	}
	return out
}

func writeProjectionDiff(w io.Writer, diffs []ProjectionDiff) error {
	if len(diffs) == 0 {
		return nil
	}
	b := &strings.Builder{}
	b.WriteString("\nUsage projection change (same profile on both sides)\n")
	for _, d := range diffs {
		fmt.Fprintf(b, "\n=== stage %s, profile %s: %s -> %s (%s/month)\n", d.Stage, d.Profile, usd(d.BaseUSD), usd(d.HeadUSD), signedUSD(d.DeltaUSD))
		if len(d.Lines) == 0 {
			b.WriteString("  no usage cost change\n")
		}
		for _, l := range d.Lines {
			fmt.Fprintf(b, "  %s %s: %s -> %s (%s)\n", l.Change, l.Key, usd(l.BaseUSD), usd(l.HeadUSD), signedUSD(l.DeltaUSD))
			if l.BaseDriver != "" && l.Change != changeAdded {
				fmt.Fprintf(b, "    - %s\n", l.BaseDriver)
			}
			if l.HeadDriver != "" && l.Change != changeRemoved {
				fmt.Fprintf(b, "    + %s\n", l.HeadDriver)
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
