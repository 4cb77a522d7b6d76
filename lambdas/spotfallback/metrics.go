package main

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
)

// metricsAPI is the part of the CloudWatch client the function uses.
type metricsAPI interface {
	GetMetricData(ctx context.Context, in *cloudwatch.GetMetricDataInput, optFns ...func(*cloudwatch.Options)) (*cloudwatch.GetMetricDataOutput, error)
}

// queue is a fleet's QueueDepth (queued + leased jobs), one Maximum per
// minute, as the backend publishes it once a minute.
type queue struct {
	end   time.Time         // the minute after the newest one asked for
	byMin map[int64]float64 // unix minute -> value
}

func readQueue(ctx context.Context, api metricsAPI, namespace, stage, slug string, end time.Time, minutes int) (queue, error) {
	start := end.Add(-time.Duration(minutes) * time.Minute)
	q := queue{end: end, byMin: map[int64]float64{}}
	in := &cloudwatch.GetMetricDataInput{
		StartTime: aws.Time(start),
		EndTime:   aws.Time(end),
		MetricDataQueries: []types.MetricDataQuery{{
			Id: aws.String("queueDepth"),
			MetricStat: &types.MetricStat{
				Metric: &types.Metric{
					Namespace:  aws.String(namespace),
					MetricName: aws.String("QueueDepth"),
					Dimensions: []types.Dimension{
						{Name: aws.String("FleetSlug"), Value: aws.String(slug)},
						{Name: aws.String("Stage"), Value: aws.String(stage)},
					},
				},
				Period: aws.Int32(60),
				Stat:   aws.String("Maximum"),
			},
			ReturnData: aws.Bool(true),
		}},
	}
	pages := cloudwatch.NewGetMetricDataPaginator(api, in)
	for pages.HasMorePages() {
		out, err := pages.NextPage(ctx)
		if err != nil {
			return queue{}, fmt.Errorf("get QueueDepth of fleet %s: %w", slug, err)
		}
		for _, r := range out.MetricDataResults {
			if len(r.Timestamps) != len(r.Values) {
				return queue{}, fmt.Errorf("get QueueDepth of fleet %s: %d timestamps for %d values", slug, len(r.Timestamps), len(r.Values))
			}
			for i, ts := range r.Timestamps {
				if ts.Before(start) || !ts.Before(end) {
					continue
				}
				m := ts.Truncate(time.Minute).Unix()
				q.byMin[m] = max(q.byMin[m], r.Values[i])
			}
		}
	}
	return q, nil
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
