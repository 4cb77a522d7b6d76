package reaper

import "fmt"

// minCoverage is the share of the window's minutes that must have a
// datapoint before "all zero" is trusted: missing data is not idleness.
const minCoverage = 0.8

// verdict is the idle-window rule's answer for one fleet.
type verdict struct {
	Idle   bool
	Reason string
}

// evaluateWindow applies the rule to one-minute QueueDepth maxima.
func evaluateWindow(values []float64, windowMinutes int) verdict {
	required := (windowMinutes*int(minCoverage*100) + 99) / 100 // ceil without floats
	for _, v := range values {
		if v > 0 {
			return verdict{Reason: fmt.Sprintf("QueueDepth reached %g in the last %d minutes: jobs were queued or leased", v, windowMinutes)}
		}
	}
	if len(values) < required {
		return verdict{Reason: fmt.Sprintf("only %d of %d one-minute datapoints in the last %d minutes (need %d): not enough data to call the fleet idle",
			len(values), windowMinutes, windowMinutes, required)}
	}
	return verdict{Idle: true, Reason: fmt.Sprintf("QueueDepth was 0 in all %d datapoints of the last %d minutes", len(values), windowMinutes)}
}
