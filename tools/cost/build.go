package main

import (
	"maps"
	"slices"

	"github.com/bp/infra/internal/cfn"
)

// buildReport prices every stack and groups them per stage.
func buildReport(stacks []cfn.Stack, p *Prices) Report {
	r := Report{Region: p.Region, Currency: p.Currency, PriceSource: p.Source, PriceAsOf: p.AsOf, HoursPerMonth: p.HoursPerMonth}
	byStage := map[string]*StageReport{}
	usage := map[string]map[string]UsagePrice{}
	for _, st := range stacks {
		sr, ok := byStage[st.Stage]
		if !ok {
			sr = &StageReport{Name: st.Stage}
			byStage[st.Stage] = sr
			usage[st.Stage] = map[string]UsagePrice{}
		}
		stackReport, stackUsage := estimateStack(st, p)
		sr.Stacks = append(sr.Stacks, stackReport)
		for _, u := range stackUsage {
			merged, ok := usage[st.Stage][u.Item]
			if !ok {
				merged = u
				merged.Stacks = nil
			}
			for _, s := range u.Stacks {
				if !slices.Contains(merged.Stacks, s) {
					merged.Stacks = append(merged.Stacks, s)
				}
			}
			slices.Sort(merged.Stacks)
			usage[st.Stage][u.Item] = merged
		}
	}
	for _, name := range slices.Sorted(maps.Keys(byStage)) {
		sr := byStage[name]
		for _, item := range slices.Sorted(maps.Keys(usage[name])) {
			sr.UsagePrices = append(sr.UsagePrices, usage[name][item])
		}
		r.Stages = append(r.Stages, *sr)
	}
	r.finish()
	return r
}
