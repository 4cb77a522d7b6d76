// Package metrics publishes whether this worker is busy (1) or idle (0) to
// CloudWatch: on each change, and again at most once a minute while unchanged
// so the series has no gaps.
package metrics

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/bp/infra/bootcontract"
)

// MetricName is the metric the worker publishes.
const MetricName = "WorkerBusy"

// DefaultTimeout bounds a publish, SDK retries included.
const DefaultTimeout = 2 * time.Second

// PutAPI is the CloudWatch call used.
type PutAPI interface {
	PutMetricData(ctx context.Context, in *cloudwatch.PutMetricDataInput, opts ...func(*cloudwatch.Options)) (*cloudwatch.PutMetricDataOutput, error)
}

// Busy publishes the busy/idle state. The zero value of a nil *Busy is a no-op,
// so callers need no "metrics enabled" checks.
type Busy struct {
	API       PutAPI
	FleetSlug string
	Stage     string
	Refresh   time.Duration // at most one unchanged republish per Refresh (1 min)
	// Timeout bounds one publish (DefaultTimeout when zero): the metric is
	// optional and must never hold up a job, protection or shutdown.
	Timeout time.Duration
	Log     *slog.Logger

	mu        sync.Mutex
	state     bool
	published bool
	last      time.Time
}

// Set records the state and publishes it if it changed.
func (b *Busy) Set(ctx context.Context, busy bool) {
	if b == nil {
		return
	}
	b.mu.Lock()
	changed := !b.published || b.state != busy
	b.state = busy
	b.mu.Unlock()
	if changed {
		b.publish(ctx)
	}
}

// Run republishes the unchanged state once per Refresh until ctx ends.
func (b *Busy) Run(ctx context.Context) {
	if b == nil {
		return
	}
	t := time.NewTicker(b.Refresh)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			b.mu.Lock()
			due := b.published && time.Since(b.last) >= b.Refresh
			b.mu.Unlock()
			if due {
				b.publish(ctx)
			}
		}
	}
}

func (b *Busy) publish(ctx context.Context) {
	b.mu.Lock()
	busy := b.state
	b.mu.Unlock()
	v := 0.0
	if busy {
		v = 1
	}
	timeout := b.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	_, err := b.API.PutMetricData(ctx, &cloudwatch.PutMetricDataInput{
		Namespace: aws.String(bootcontract.MetricsNamespace),
		MetricData: []types.MetricDatum{{
			MetricName: aws.String(MetricName),
			Value:      aws.Float64(v),
			Unit:       types.StandardUnitCount,
			Dimensions: []types.Dimension{
				{Name: aws.String("FleetSlug"), Value: aws.String(b.FleetSlug)},
				{Name: aws.String("Stage"), Value: aws.String(b.Stage)},
			},
		}},
	})
	if err != nil {
		b.Log.Warn("publishing busy metric failed", "error", fmt.Errorf("cloudwatch PutMetricData: %w", err).Error())
		return
	}
	b.mu.Lock()
	b.published, b.last = true, time.Now()
	b.mu.Unlock()
}
