package observability

import (
	"slices"

	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecs"
	elbv2 "github.com/aws/aws-cdk-go/awscdk/v2/awselasticloadbalancingv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/interfaces/interfacesawscloudwatch"
	"github.com/aws/jsii-runtime-go"
	"github.com/bp/infra/constructs/alarms"
)

// dashboard is the stage's one screen: alarm states on top, then one row per
// component, then one row per GPU fleet.
func (o *obs) dashboard() awscloudwatch.Dashboard {
	d := awscloudwatch.NewDashboard(o.stack, jsii.String("Dashboard"), &awscloudwatch.DashboardProps{
		DashboardName:   jsii.String(o.p.Names.Dashboard()),
		DefaultInterval: alarms.Minutes(60 * 6),
	})
	var alarmRefs []interfacesawscloudwatch.IAlarmRef
	for _, a := range o.alarms {
		alarmRefs = append(alarmRefs, a)
	}
	for _, a := range o.otherStacksAlarms() {
		alarmRefs = append(alarmRefs, a)
	}
	d.AddWidgets(awscloudwatch.NewAlarmStatusWidget(&awscloudwatch.AlarmStatusWidgetProps{
		Title: jsii.String(o.p.Names.Prefix() + " alarms"), Alarms: &alarmRefs, Width: jsii.Number(24), Height: jsii.Number(4),
	}))
	for _, row := range [][]awscloudwatch.IWidget{o.albRow(), o.ecsRow(), o.dataRow(), o.costRow()} {
		d.AddWidgets(row...)
	}
	for _, f := range o.fleets() {
		d.AddWidgets(o.fleetRow(f)...)
	}
	return d
}

func graph(title string, width int, left []awscloudwatch.IMetric, right ...awscloudwatch.IMetric) awscloudwatch.IWidget {
	props := &awscloudwatch.GraphWidgetProps{Title: jsii.String(title), Width: jsii.Number(float64(width)), Height: jsii.Number(6), Left: &left}
	if len(right) > 0 {
		props.Right = &right
	}
	return awscloudwatch.NewGraphWidget(props)
}

func ms(m ...awscloudwatch.IMetric) []awscloudwatch.IMetric { return m }

func (o *obs) albRow() []awscloudwatch.IWidget {
	m, five := o.p.Compute.Alb.Metrics(), alarms.Minutes(5)
	sum := &awscloudwatch.MetricOptions{Period: five, Statistic: jsii.String("Sum")}
	return []awscloudwatch.IWidget{
		graph("ALB requests", 8, ms(m.RequestCount(sum))),
		graph("ALB 5xx (ELB, targets)", 8, ms(m.HttpCodeElb(elbv2.HttpCodeElb_ELB_5XX_COUNT, sum), m.HttpCodeTarget(elbv2.HttpCodeTarget_TARGET_5XX_COUNT, sum))),
		graph("target response time p50/p95", 8, ms(
			m.TargetResponseTime(&awscloudwatch.MetricOptions{Period: five, Statistic: jsii.String("p50")}),
			m.TargetResponseTime(&awscloudwatch.MetricOptions{Period: five, Statistic: jsii.String("p95")}))),
	}
}

func (o *obs) ecsRow() []awscloudwatch.IWidget {
	var cpu, mem, tasks []awscloudwatch.IMetric
	for _, svc := range []awsecs.FargateService{o.p.Compute.Backend, o.p.Compute.Frontend} {
		cpu = append(cpu, svc.MetricCpuUtilization(nil))
		mem = append(mem, svc.MetricMemoryUtilization(nil))
		dims := map[string]*string{"ClusterName": svc.Cluster().ClusterName(), "ServiceName": svc.ServiceName()}
		tasks = append(tasks,
			alarms.Metric("ECS/ContainerInsights", "RunningTaskCount", dims, "Average", alarms.Minutes(1)),
			alarms.Metric("ECS/ContainerInsights", "DesiredTaskCount", dims, "Average", alarms.Minutes(1)))
	}
	return []awscloudwatch.IWidget{graph("ECS CPU %", 8, cpu), graph("ECS memory %", 8, mem), graph("ECS running vs desired tasks", 8, tasks)}
}

func (o *obs) dataRow() []awscloudwatch.IWidget {
	db := o.p.Data.Database
	var cpu, mem, ev []awscloudwatch.IMetric
	for _, n := range cacheNodeIDs(o.p.Data.CacheID, o.p.Cfg.Cache.Replicas) {
		dims := map[string]*string{"CacheClusterId": jsii.String(n)}
		cpu = append(cpu, alarms.Metric("AWS/ElastiCache", "EngineCPUUtilization", dims, "Average", alarms.Minutes(5)))
		mem = append(mem, alarms.Metric("AWS/ElastiCache", "DatabaseMemoryUsagePercentage", dims, "Average", alarms.Minutes(5)))
		ev = append(ev, alarms.Metric("AWS/ElastiCache", "Evictions", dims, "Sum", alarms.Minutes(5)))
	}
	return []awscloudwatch.IWidget{
		graph("RDS CPU %", 4, ms(db.MetricCPUUtilization(nil))),
		graph("RDS free storage", 4, ms(db.MetricFreeStorageSpace(nil))),
		graph("RDS connections", 4, ms(db.MetricDatabaseConnections(nil))),
		graph("cache engine CPU %", 4, cpu), graph("cache memory %", 4, mem), graph("cache evictions", 4, ev),
	}
}

// costRow shows the bytes behind the review's cost hotspots.
func (o *obs) costRow() []awscloudwatch.IWidget {
	hour := alarms.Minutes(60)
	// NAT bytes: the Network stack's alarms, by name (no NAT id crosses stacks).
	var natWidgets []awscloudwatch.IWidget
	for _, a := range o.otherStacksAlarms() {
		natWidgets = append(natWidgets, awscloudwatch.NewAlarmWidget(&awscloudwatch.AlarmWidgetProps{
			Title: jsii.String("NAT bytes per hour: " + *a.AlarmName()), Alarm: a, Width: jsii.Number(8), Height: jsii.Number(6),
		}))
	}
	var logs []awscloudwatch.IMetric
	for _, g := range o.stageLogGroups() {
		logs = append(logs, alarms.Metric("AWS/Logs", "IncomingBytes", map[string]*string{"LogGroupName": g}, "Sum", hour))
	}
	row := append(natWidgets, graph("CloudWatch Logs bytes ingested per hour, by group", 8, logs))
	if cdn := o.p.Data.MediaCdn; o.p.Cfg.Region == cloudFrontMetricsRegion {
		dims := map[string]*string{"DistributionId": cdn.DistributionId(), "Region": jsii.String("Global")}
		row = append(row, graph("media CDN bytes per hour (left), 5xx % (right)", 8,
			ms(alarms.Metric("AWS/CloudFront", "BytesDownloaded", dims, "Sum", hour)),
			alarms.Metric("AWS/CloudFront", "5xxErrorRate", dims, "Average", alarms.Minutes(5))))
	}
	return row
}

func (o *obs) fleetRow(f watchedFleet) []awscloudwatch.IWidget {
	dims := workerDims(f.cfg.Slug, o.p.Cfg.Stage)
	w := func(name, stat string) awscloudwatch.IMetric {
		return alarms.Metric(WorkerNamespace, name, dims, stat, alarms.Minutes(1))
	}
	inService := alarms.Metric("AWS/AutoScaling", "GroupInServiceInstances", map[string]*string{"AutoScalingGroupName": jsii.String(f.asgName)}, "Average", alarms.Minutes(1))
	title := "fleet " + f.cfg.Slug + ": "
	return []awscloudwatch.IWidget{
		graph(title+"queue depth", 5, ms(w("QueueDepth", "Maximum"))),
		graph(title+"backlog per instance", 5, ms(w("BacklogPerInstance", "Average"))),
		graph(title+"workers vs instances", 5, ms(w("ActiveWorkers", "Average"), w("AvailableCapacity", "Average"), inService)),
		graph(title+"errors", 5, ms(w("ErrorRate", "Average")), w("LeaseExpiredCount", "Sum")),
		graph(title+"Spot interruptions", 4, ms(w("SpotInterruptionCount", "Sum"))),
	}
}

// otherStacksAlarms refers to the alarms built beside what they watch (the
// Network stack's NAT alarms, the GpuFleet stack's function alarms) by their
// literal names; their ARNs are built from the names, so nothing is imported.
func (o *obs) otherStacksAlarms() []awscloudwatch.IAlarm {
	if o.imported == nil {
		for _, name := range append(slices.Clone(o.p.Net.NatAlarmNames), o.p.GpuFleet.FunctionAlarmNames...) {
			o.imported = append(o.imported, awscloudwatch.Alarm_FromAlarmName(o.stack, jsii.String("Ref-"+name), jsii.String(name)))
		}
	}
	return o.imported
}
