package config

import "fmt"

// validateCapacity checks a fleet's On-Demand fallback, warm buffer and root
// volume initialization rate; key renders "fleets[i].<name>".
func validateCapacity(p *problems, key func(string) string, f Fleet) {
	fb := f.OnDemandFallback
	if fb.Enabled {
		p.check(fb.MaxInstances >= 1 && fb.MaxInstances <= f.MaxSize, key("onDemandFallback.maxInstances"), fb.MaxInstances,
			fmt.Sprintf("must be 1 to the fleet's maxSize (%d): it is the most On-Demand instances the fallback may ask for", f.MaxSize),
			"e.g. onDemandFallback.maxInstances=1, or set onDemandFallback.enabled=false")
		p.between(key("onDemandFallback.afterMinutes"), fb.AfterMinutes, 1, 60)
		p.check(f.OnDemandPercent < 100, key("onDemandFallback.enabled"), fb.Enabled,
			"has nothing to fall back from: onDemandPercent is 100, the fleet is all On-Demand already", "set onDemandFallback.enabled=false or lower onDemandPercent")
	}
	wb := f.WarmBuffer
	if wb.Enabled {
		p.check(wb.MinInstances >= 1 && wb.MinInstances <= f.MaxSize, key("warmBuffer.minInstances"), wb.MinInstances,
			fmt.Sprintf("must be 1 to the fleet's maxSize (%d)", f.MaxSize), "e.g. warmBuffer.minInstances=1")
		p.check(reCron.MatchString(wb.StartCron), key("warmBuffer.startCron"), wb.StartCron, "must be a 5-field UTC cron expression", `e.g. warmBuffer.startCron="0 8 * * 1-5"`)
		p.check(reCron.MatchString(wb.EndCron), key("warmBuffer.endCron"), wb.EndCron, "must be a 5-field UTC cron expression", `e.g. warmBuffer.endCron="0 20 * * 1-5"`)
		p.check(wb.StartCron != wb.EndCron, key("warmBuffer.endCron"), wb.EndCron, "equals startCron: the buffer would end when it starts", "give the buffer an end after its start")
	}
	r := f.RootVolumeInitRateMiBps
	p.check(r == 0 || (r >= 100 && r <= 300), key("rootVolumeInitRateMiBps"), r,
		"EBS accepts a volume initialization rate of 100 to 300 MiB/s", "set 0 (EBS default lazy loading) or a value in [100, 300]")
}
