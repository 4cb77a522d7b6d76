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
	API PutAPI
	// Namespace is the stage's worker namespace (bootcontract.WorkerMetricsNamespace).
	Namespace string
	FleetSlug string
	Stage     string
	Refresh   time.Duration // at most one unchanged republish per Refresh (1 min)
	// Timeout bounds one publish (DefaultTimeout when zero): the metric is
	// optional and must never hold up a job, protection or shutdown.
	Timeout time.Duration
	Log     *slog.Logger
	// Clock is the time source (nil: the real one); tests pass a fake.
	Clock Clock

	mu        sync.Mutex
	state     bool
	published bool
	last      time.Time // last publish attempt (a failed one too)
}

// Clock is what Busy needs of time.
type Clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

type realClock struct{}

func (realClock) Now() time.Time                         { return time.Now() }
func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

func (b *Busy) clock() Clock {
	if b.Clock != nil {
		return b.Clock
	}
	return realClock{}
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

// Run republishes the unchanged state once per Refresh until ctx ends. The
// next publish is due a Refresh after the last one, whenever that was (a
// change published by Set moves it): a fixed ticker would tick just before
// that mark, skip, and republish only after two periods.
func (b *Busy) Run(ctx context.Context) {
	if b == nil {
		return
	}
	clock := b.clock()
	for {
		b.mu.Lock()
		wait := b.Refresh
		if b.published {
			// Counted from the last attempt, so a failing CloudWatch is not
			// called in a tight loop either.
			wait = b.last.Add(b.Refresh).Sub(clock.Now())
		}
		b.mu.Unlock()
		select {
		case <-ctx.Done():
			return
		case <-clock.After(wait):
		}
		b.mu.Lock()
		due := b.published && !clock.Now().Before(b.last.Add(b.Refresh))
		b.mu.Unlock()
		if due {
			b.publish(ctx)
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
	b.mu.Lock()
	b.last = b.clock().Now()
	b.mu.Unlock()
	_, err := b.API.PutMetricData(ctx, &cloudwatch.PutMetricDataInput{
		Namespace: aws.String(b.Namespace),
		MetricData: []types.MetricDatum{{
			MetricName: aws.String(MetricName),
			Value:      aws.Float64(v),
			Unit:       types.StandardUnitCount,
			Dimensions: []types.Dimension{
				{Name: aws.String(bootcontract.DimFleetSlug), Value: aws.String(b.FleetSlug)},
				{Name: aws.String(bootcontract.DimStage), Value: aws.String(b.Stage)},
			},
		}},
	})
	if err != nil {
		b.Log.Warn("publishing busy metric failed", "error", fmt.Errorf("cloudwatch PutMetricData: %w", err).Error())
		return
	}
	b.mu.Lock()
	b.published = true
	b.mu.Unlock()
}
