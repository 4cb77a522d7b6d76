package gpufleet

import (
	"maps"
	"slices"
	"strconv"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsautoscaling"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/bp/infra/bootcontract"
)

// newFleetAsg is the fleet's Auto Scaling group: min 0, Spot by default over
// the configured types, in every private subnet. Desired capacity is left out
// of the template so a deploy never resets what scaling has set.
func newFleetAsg(scope constructs.Construct, p Props, f Fleet, lt awsec2.ILaunchTemplate) awsautoscaling.AutoScalingGroup {
	overrides := make([]*awsautoscaling.LaunchTemplateOverrides, 0, len(f.Cfg.InstanceTypes))
	for _, it := range f.Cfg.InstanceTypes {
		overrides = append(overrides, &awsautoscaling.LaunchTemplateOverrides{InstanceType: awsec2.NewInstanceType(jsii.String(it))})
	}
	asg := awsautoscaling.NewAutoScalingGroup(scope, jsii.String("Asg"), &awsautoscaling.AutoScalingGroupProps{
		AutoScalingGroupName: jsii.String(f.AsgName),
		Vpc:                  p.Net.Vpc,
		VpcSubnets:           &awsec2.SubnetSelection{SubnetType: awsec2.SubnetType_PRIVATE_WITH_EGRESS},
		MinCapacity:          jsii.Number(0),
		MaxCapacity:          jsii.Number(float64(f.Cfg.MaxSize)),
		MixedInstancesPolicy: &awsautoscaling.MixedInstancesPolicy{
			LaunchTemplate:          lt,
			LaunchTemplateOverrides: &overrides,
			InstancesDistribution: &awsautoscaling.InstancesDistribution{
				OnDemandBaseCapacity:                jsii.Number(0),
				OnDemandPercentageAboveBaseCapacity: jsii.Number(float64(f.Cfg.OnDemandPercent)),
				SpotAllocationStrategy:              awsautoscaling.SpotAllocationStrategy_PRICE_CAPACITY_OPTIMIZED,
			},
		},
		CapacityRebalance:     jsii.Bool(true),
		GroupMetrics:          &[]awsautoscaling.GroupMetrics{awsautoscaling.GroupMetrics_All()},
		DefaultInstanceWarmup: awscdk.Duration_Seconds(jsii.Number(float64(f.Cfg.WarmupSeconds))),
		// Launch and terminate errors only: routine 0 -> N -> 0 events would page people.
		Notifications: &[]*awsautoscaling.NotificationConfiguration{{
			Topic: p.Net.AlertsTopic, ScalingEvents: awsautoscaling.ScalingEvents_ERRORS(),
		}},
	})
	launched := &awscdk.TagProps{ApplyToLaunchedInstances: jsii.Bool(true)}
	awscdk.Tags_Of(asg).Add(jsii.String(bootcontract.TagFleetSlug), jsii.String(f.Slug), launched)
	awscdk.Tags_Of(asg).Add(jsii.String(bootcontract.TagStage), jsii.String(p.Cfg.Stage), launched)

	if p.Cfg.FleetSchedule.NightlyScaleToZero {
		// A cost guardrail for non-production stages: whatever the metrics say,
		// the fleet goes to zero at night. Protected instances finish their job.
		// A fleet with a warm buffer also drops its minimum, because a desired
		// capacity below the group's minimum is invalid (UpdateAutoScalingGroup
		// API reference); the next buffer start raises it again.
		nightly := &awsautoscaling.BasicScheduledActionProps{
			Schedule:        awsautoscaling.Schedule_Expression(jsii.String(p.Cfg.FleetSchedule.Cron)),
			DesiredCapacity: jsii.Number(0),
			TimeZone:        jsii.String("UTC"),
		}
		if f.Cfg.WarmBuffer.Enabled {
			nightly.MinCapacity = jsii.Number(0)
		}
		asg.ScaleOnSchedule(jsii.String("NightlyScaleToZero"), nightly)
	}
	return asg
}

// queueDepth is the backend's per-fleet QueueDepth (queued + leased jobs).
func queueDepth(p Props, f Fleet, stat string) awscloudwatch.Metric {
	return awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
		Namespace:  jsii.String(bootcontract.MetricsNamespace),
		MetricName: jsii.String("QueueDepth"),
		DimensionsMap: &map[string]*string{
			bootcontract.DimFleetSlug: jsii.String(f.Slug),
			bootcontract.DimStage:     jsii.String(p.Cfg.Stage),
		},
		Statistic: jsii.String(stat),
		Period:    awscdk.Duration_Minutes(jsii.Number(1)),
	})
}

func asgMetric(f Fleet, name string) awscloudwatch.Metric {
	return awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
		Namespace:     jsii.String("AWS/AutoScaling"),
		MetricName:    jsii.String(name),
		DimensionsMap: &map[string]*string{"AutoScalingGroupName": jsii.String(f.AsgName)},
		Statistic:     jsii.String("Maximum"),
		Period:        awscdk.Duration_Minutes(jsii.Number(1)),
	})
}

// addFleetScaling wires the three moves of the fleet, none needing a person:
// 0 -> 1 when jobs wait, 1 -> N on backlog per instance, N -> 0 after
// ScaleToZeroMinutes of empty queue.
func addFleetScaling(scope constructs.Construct, p Props, f Fleet, stz awssns.ITopic) {
	warmup := awscdk.Duration_Seconds(jsii.Number(float64(f.Cfg.WarmupSeconds)))
	// 0 -> 1. Target tracking cannot leave zero (no instance, no ratio), so a
	// step policy adds one instance while jobs wait and the group is empty. The
	// desired-capacity guard keeps it from fighting target tracking at N.
	fromZero := awsautoscaling.NewStepScalingAction(scope, jsii.String("ScaleFromZero"), &awsautoscaling.StepScalingActionProps{
		AutoScalingGroup:        f.Asg,
		AdjustmentType:          awsautoscaling.AdjustmentType_CHANGE_IN_CAPACITY,
		MetricAggregationType:   awsautoscaling.MetricAggregationType_MAXIMUM,
		EstimatedInstanceWarmup: warmup,
	})
	fromZero.AddAdjustment(&awsautoscaling.AdjustmentTier{Adjustment: jsii.Number(1), LowerBound: jsii.Number(0)})
	hasJobs := awscloudwatch.NewAlarm(scope, jsii.String("QueueHasJobsAlarm"), &awscloudwatch.AlarmProps{
		AlarmName:        jsii.String(f.QueueHasJobsAlarmName),
		AlarmDescription: jsii.String("Jobs wait for fleet " + f.Slug + " and its group is at zero: start one instance"),
		Metric: awscloudwatch.NewMathExpression(&awscloudwatch.MathExpressionProps{
			Expression: jsii.String("IF(queue > 0 AND FILL(desired, 0) == 0, 1, 0)"),
			UsingMetrics: &map[string]awscloudwatch.IMetric{
				"queue": queueDepth(p, f, "Maximum"), "desired": asgMetric(f, "GroupDesiredCapacity"),
			},
			Label:  jsii.String("jobs waiting on an empty group"),
			Period: awscdk.Duration_Minutes(jsii.Number(1)),
		}),
		ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
		Threshold:          jsii.Number(1),
		EvaluationPeriods:  jsii.Number(1),
		TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
	})
	hasJobs.AddAlarmAction(awscloudwatchactions.NewAutoScalingAction(fromZero))

	// 1 -> N: keep queue depth per in-service instance at the configured target.
	// With no instance in service yet the whole queue counts (no divide by zero).
	stat := func(id string, m awscloudwatch.Metric) *awsautoscaling.CfnScalingPolicy_TargetTrackingMetricDataQueryProperty {
		dims := []*awsautoscaling.CfnScalingPolicy_MetricDimensionProperty{}
		for _, k := range slices.Sorted(maps.Keys(*m.Dimensions())) {
			dims = append(dims, &awsautoscaling.CfnScalingPolicy_MetricDimensionProperty{Name: jsii.String(k), Value: jsii.String((*m.Dimensions())[k].(string))})
		}
		return &awsautoscaling.CfnScalingPolicy_TargetTrackingMetricDataQueryProperty{
			Id: jsii.String(id), ReturnData: jsii.Bool(false),
			MetricStat: &awsautoscaling.CfnScalingPolicy_TargetTrackingMetricStatProperty{
				Metric: &awsautoscaling.CfnScalingPolicy_MetricProperty{Namespace: m.Namespace(), MetricName: m.MetricName(), Dimensions: &dims},
				Stat:   jsii.String("Average"),
			},
		}
	}
	awsautoscaling.NewCfnScalingPolicy(scope, jsii.String("BacklogTracking"), &awsautoscaling.CfnScalingPolicyProps{
		AutoScalingGroupName:    f.Asg.AutoScalingGroupName(),
		PolicyType:              jsii.String("TargetTrackingScaling"),
		EstimatedInstanceWarmup: jsii.Number(float64(f.Cfg.WarmupSeconds)),
		TargetTrackingConfiguration: &awsautoscaling.CfnScalingPolicy_TargetTrackingConfigurationProperty{
			TargetValue: jsii.Number(f.Cfg.BacklogPerInstanceTarget),
			CustomizedMetricSpecification: &awsautoscaling.CfnScalingPolicy_CustomizedMetricSpecificationProperty{
				Metrics: &[]*awsautoscaling.CfnScalingPolicy_TargetTrackingMetricDataQueryProperty{
					stat("queue", queueDepth(p, f, "Average")),
					stat("inService", asgMetric(f, "GroupInServiceInstances")),
					{Id: jsii.String("backlog"), Label: jsii.String("QueueDepth per in-service instance"), ReturnData: jsii.Bool(true),
						Expression: jsii.String("queue / IF(inService > 0, inService, 1)")},
				},
			},
		},
	})

	// N -> 0: an empty queue for ScaleToZeroMinutes notifies the stage's topic,
	// whose handler sets desired capacity 0. Missing data counts as empty: a
	// fleet whose metrics stopped must not run on unseen.
	empty := awscloudwatch.NewAlarm(scope, jsii.String("QueueEmptyAlarm"), &awscloudwatch.AlarmProps{
		AlarmName:          jsii.String(f.QueueEmptyAlarmName),
		AlarmDescription:   jsii.String("Fleet " + f.Slug + " had no queued or leased job for " + strconv.Itoa(f.Cfg.ScaleToZeroMinutes) + " minutes: scale to zero"),
		Metric:             queueDepth(p, f, "Maximum"),
		ComparisonOperator: awscloudwatch.ComparisonOperator_LESS_THAN_OR_EQUAL_TO_THRESHOLD,
		Threshold:          jsii.Number(0),
		EvaluationPeriods:  jsii.Number(float64(f.Cfg.ScaleToZeroMinutes)),
		DatapointsToAlarm:  jsii.Number(float64(f.Cfg.ScaleToZeroMinutes)),
		TreatMissingData:   awscloudwatch.TreatMissingData_BREACHING,
	})
	empty.AddAlarmAction(awscloudwatchactions.NewSnsAction(stz))
}
