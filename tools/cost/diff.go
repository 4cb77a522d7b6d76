package main

import (
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strings"
	"text/tabwriter"
)

// DiffReport is what a change adds to or removes from the monthly bill:
// head is the changed assembly, base the one it is compared with.
type DiffReport struct {
	Region   string         `json:"region"`
	Stages   []StageDiff    `json:"stages"`
	BaseUSD  float64        `json:"base_monthly_usd"`
	HeadUSD  float64        `json:"head_monthly_usd"`
	DeltaUSD float64        `json:"delta_monthly_usd"`
	Unpriced []UnpricedItem `json:"unpriced"` // unpriced lines of head
	// Projections is how the usage projection moves under the same profile.
	Projections []ProjectionDiff `json:"projections,omitempty"`
}

// StageDiff is one stage's change, with only the stacks that changed.
type StageDiff struct {
	Name     string      `json:"name"`
	BaseUSD  float64     `json:"base_monthly_usd"`
	HeadUSD  float64     `json:"head_monthly_usd"`
	DeltaUSD float64     `json:"delta_monthly_usd"`
	Stacks   []StackDiff `json:"stacks"`
}

// StackDiff is one stack's change, with only the lines that changed.
type StackDiff struct {
	Name     string     `json:"name"`
	Change   string     `json:"change"` // added, removed, changed
	BaseUSD  float64    `json:"base_monthly_usd"`
	HeadUSD  float64    `json:"head_monthly_usd"`
	DeltaUSD float64    `json:"delta_monthly_usd"`
	Items    []ItemDiff `json:"items"`
}

// ItemDiff is one line item that was added, removed or changed.
type ItemDiff struct {
	Key          string  `json:"key"`
	Change       string  `json:"change"`
	Description  string  `json:"description"`
	Resource     string  `json:"resource"`
	BaseQuantity float64 `json:"base_quantity"`
	HeadQuantity float64 `json:"head_quantity"`
	BaseUSD      float64 `json:"base_monthly_usd"`
	HeadUSD      float64 `json:"head_monthly_usd"`
	DeltaUSD     float64 `json:"delta_monthly_usd"`
	Unpriced     bool    `json:"unpriced,omitempty"`
}

const (
	changeAdded   = "added"
	changeRemoved = "removed"
	changeChanged = "changed"
)

// diffReports compares two reports stage by stage, stack by stack and line by
// line (by line key).
func diffReports(base, head Report) DiffReport {
	d := DiffReport{Region: head.Region, BaseUSD: base.MonthlyUSD, HeadUSD: head.MonthlyUSD, DeltaUSD: head.MonthlyUSD - base.MonthlyUSD, Unpriced: head.Unpriced,
		Projections: diffProjections(base.Projections, head.Projections)}
	baseStages, headStages := map[string]StageReport{}, map[string]StageReport{}
	for _, s := range base.Stages {
		baseStages[s.Name] = s
	}
	for _, s := range head.Stages {
		headStages[s.Name] = s
	}
	for _, name := range unionKeys(baseStages, headStages) {
		b, h := baseStages[name], headStages[name]
		sd := StageDiff{Name: name, BaseUSD: b.MonthlyUSD, HeadUSD: h.MonthlyUSD, DeltaUSD: h.MonthlyUSD - b.MonthlyUSD}
		bStacks, hStacks := map[string]StackReport{}, map[string]StackReport{}
		for _, s := range b.Stacks {
			bStacks[s.Name] = s
		}
		for _, s := range h.Stacks {
			hStacks[s.Name] = s
		}
		for _, stack := range unionKeys(bStacks, hStacks) {
			bs, inBase := bStacks[stack]
			hs, inHead := hStacks[stack]
			items := diffItems(bs.Items, hs.Items)
			if len(items) == 0 && inBase && inHead {
				continue
			}
			change := changeChanged
			if !inBase {
				change = changeAdded
			} else if !inHead {
				change = changeRemoved
			}
			sd.Stacks = append(sd.Stacks, StackDiff{Name: stack, Change: change, BaseUSD: bs.MonthlyUSD, HeadUSD: hs.MonthlyUSD, DeltaUSD: hs.MonthlyUSD - bs.MonthlyUSD, Items: items})
		}
		d.Stages = append(d.Stages, sd)
	}
	return d
}

func diffItems(base, head []LineItem) []ItemDiff {
	b, h := map[string]LineItem{}, map[string]LineItem{}
	for _, it := range base {
		b[it.Key] = it
	}
	for _, it := range head {
		h[it.Key] = it
	}
	var out []ItemDiff
	for _, key := range unionKeys(b, h) {
		bi, inBase := b[key]
		hi, inHead := h[key]
		d := ItemDiff{Key: key, Description: hi.Description, Resource: hi.Resource, HeadQuantity: hi.Quantity, HeadUSD: priced(hi), BaseQuantity: bi.Quantity, BaseUSD: priced(bi), Unpriced: hi.Unpriced}
		switch {
		case !inBase:
			d.Change = changeAdded
		case !inHead:
			d.Change = changeRemoved
			d.Description, d.Resource, d.Unpriced = bi.Description, bi.Resource, bi.Unpriced
		case bi.Description != hi.Description || bi.Unpriced != hi.Unpriced || !near(bi.Quantity, hi.Quantity) || !near(bi.MonthlyUSD, hi.MonthlyUSD):
			d.Change = changeChanged
		default:
			continue
		}
		d.DeltaUSD = d.HeadUSD - d.BaseUSD
		out = append(out, d)
	}
	return out
}

func priced(it LineItem) float64 {
	if it.Unpriced {
		return 0
	}
	return it.MonthlyUSD
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func unionKeys[V any](a, b map[string]V) []string {
	m := map[string]bool{}
	for k := range a {
		m[k] = true
	}
	for k := range b {
		m[k] = true
	}
	return slices.Sorted(maps.Keys(m))
}

// writeDiffTable prints what the change adds or removes per month.
func writeDiffTable(w io.Writer, d DiffReport) error {
	b := &strings.Builder{}
	fmt.Fprintf(b, "Monthly cost change at idle (%s): %s -> %s (%s/month)\n", d.Region, usd(d.BaseUSD), usd(d.HeadUSD), signedUSD(d.DeltaUSD))
	writeUnpricedWarning(b, d.Unpriced)
	for _, st := range d.Stages {
		fmt.Fprintf(b, "\n=== stage %s: %s -> %s (%s/month)\n", st.Name, usd(st.BaseUSD), usd(st.HeadUSD), signedUSD(st.DeltaUSD))
		if len(st.Stacks) == 0 {
			fmt.Fprintln(b, "  no cost change")
		}
		for _, sk := range st.Stacks {
			fmt.Fprintf(b, "--- %s (%s): %s -> %s (%s/month)\n", sk.Name, sk.Change, usd(sk.BaseUSD), usd(sk.HeadUSD), signedUSD(sk.DeltaUSD))
			tw := tabwriter.NewWriter(b, 0, 0, 2, ' ', 0)
			for _, it := range sk.Items {
				delta := signedUSD(it.DeltaUSD)
				if it.Unpriced {
					delta = "UNPRICED"
				}
				fmt.Fprintf(tw, "  %s\t%s\t%s\t%s -> %s\t%s\n", it.Change, it.Description, it.Resource, usd(it.BaseUSD), usd(it.HeadUSD), delta)
			}
			if err := tw.Flush(); err != nil {
				return fmt.Errorf("write diff table: %w", err)
			}
		}
	}
	fmt.Fprintf(b, "\nTOTAL change: %s/month (%s -> %s)\n", signedUSD(d.DeltaUSD), usd(d.BaseUSD), usd(d.HeadUSD))
	writeUnpricedList(b, d.Unpriced)
	if _, err := io.WriteString(w, b.String()); err != nil {
		return err
	}
	return writeProjectionDiff(w, d.Projections)
}
