// Package queuedepth reads a fleet's QueueDepth (queued + leased jobs), the
// metric the backend publishes once a minute per fleet and stage, as the
// maximum of each minute that has data.
package queuedepth

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/bp/infra/bootcontract"
)

// API is the part of the CloudWatch client the reads use.
type API interface {
	GetMetricData(ctx context.Context, in *cloudwatch.GetMetricDataInput, optFns ...func(*cloudwatch.Options)) (*cloudwatch.GetMetricDataOutput, error)
}

// ByMinute returns, for each minute in [start, end) with data, the Maximum of
// the fleet's QueueDepth, keyed by the minute's Unix time.
func ByMinute(ctx context.Context, api API, namespace, stage, slug string, start, end time.Time) (map[int64]float64, error) {
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
						{Name: aws.String(bootcontract.DimFleetSlug), Value: aws.String(slug)},
						{Name: aws.String(bootcontract.DimStage), Value: aws.String(stage)},
					},
				},
				Period: aws.Int32(60),
				Stat:   aws.String("Maximum"),
			},
			ReturnData: aws.Bool(true),
		}},
	}
	byMinute := map[int64]float64{}
	pages := cloudwatch.NewGetMetricDataPaginator(api, in)
	for pages.HasMorePages() {
		out, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("get QueueDepth of fleet %s: %w", slug, err)
		}
		for _, r := range out.MetricDataResults {
			if len(r.Timestamps) != len(r.Values) {
				return nil, fmt.Errorf("get QueueDepth of fleet %s: %d timestamps for %d values", slug, len(r.Timestamps), len(r.Values))
			}
			for i, ts := range r.Timestamps {
				if ts.Before(start) || !ts.Before(end) {
					continue
				}
				minute := ts.Truncate(time.Minute).Unix()
				byMinute[minute] = max(byMinute[minute], r.Values[i])
			}
		}
	}
	return byMinute, nil
}
