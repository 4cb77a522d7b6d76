package spotfallback

import (
	"context"
	"time"

	"github.com/bp/infra/lambdas/internal/queuedepth"
)

// queue is a fleet's QueueDepth (queued + leased jobs), one Maximum per
// minute, as the backend publishes it once a minute.
type queue struct {
	end   time.Time         // the minute after the newest one asked for
	byMin map[int64]float64 // unix minute -> value
}

func readQueue(ctx context.Context, api queuedepth.API, namespace, stage, slug string, end time.Time, minutes int) (queue, error) {
	start := end.Add(-time.Duration(minutes) * time.Minute)
	byMin, err := queuedepth.ByMinute(ctx, api, namespace, stage, slug, start, end)
	if err != nil {
		return queue{}, err
	}
	return queue{end: end, byMin: byMin}, nil
}

// last returns the values of the newest n minutes that have data, looking
// back n+1 minutes: the backend's datapoint for the current minute may not
// have arrived yet. ok is false when fewer than n minutes have data.
func (q queue) last(n int) (vals []float64, ok bool) {
	for i := 1; i <= n+1 && len(vals) < n; i++ {
		m := q.end.Add(-time.Duration(i) * time.Minute).Unix()
		if v, has := q.byMin[m]; has {
			vals = append(vals, v)
		}
	}
	return vals, len(vals) == n
}

// nonEmptyFor: jobs waited in each of the last n minutes.
func (q queue) nonEmptyFor(n int) bool {
	vals, ok := q.last(n)
	if !ok {
		return false
	}
	for _, v := range vals {
		if v <= 0 {
			return false
		}
	}
	return true
}

// emptyFor: no job was queued or leased in any of the last n minutes.
func (q queue) emptyFor(n int) bool {
	vals, ok := q.last(n)
	if !ok {
		return false
	}
	for _, v := range vals {
		if v > 0 {
			return false
		}
	}
	return true
}
