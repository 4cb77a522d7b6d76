package reaper

import (
	"context"
	"time"

	"github.com/bp/infra/lambdas/internal/queuedepth"
)

// queueDepthMaxima returns one value per minute that has data in [start, end):
// the Maximum of QueueDepth for the fleet and stage.
func queueDepthMaxima(ctx context.Context, api queuedepth.API, namespace, stage, slug string, start, end time.Time) ([]float64, error) {
	byMinute, err := queuedepth.ByMinute(ctx, api, namespace, stage, slug, start, end)
	if err != nil {
		return nil, err
	}
	values := make([]float64, 0, len(byMinute))
	for _, v := range byMinute {
		values = append(values, v)
	}
	return values, nil
}
