package main

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/bp/infra/bootcontract"
)

// metricsAPI is the part of the CloudWatch client the reaper uses.
type metricsAPI interface {
	GetMetricData(ctx context.Context, in *cloudwatch.GetMetricDataInput, optFns ...func(*cloudwatch.Options)) (*cloudwatch.GetMetricDataOutput, error)
}

// queueDepthMaxima returns one value per minute that has data in [start, end):
// the Maximum of QueueDepth for the fleet and stage.
func queueDepthMaxima(ctx context.Context, api metricsAPI, namespace, stage, slug string, start, end time.Time) ([]float64, error) {
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
	values := make([]float64, 0, len(byMinute))
	for _, v := range byMinute {
		values = append(values, v)
	}
	return values, nil
}
