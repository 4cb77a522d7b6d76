package observability

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecs"
	elbv2 "github.com/aws/aws-cdk-go/awscdk/v2/awselasticloadbalancingv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/interfaces/interfacesawscloudwatch"
	"github.com/aws/jsii-runtime-go"
)

// dashboard is the stage's one screen: alarm states on top, then one row per
// component, then one row per GPU fleet.
func (o *obs) dashboard() awscloudwatch.Dashboard {
	d := awscloudwatch.NewDashboard(o.stack, jsii.String("Dashboard"), &awscloudwatch.DashboardProps{
		DashboardName:   jsii.String(o.p.Names.Dashboard()),
		DefaultInterval: minutes(60 * 6),
	})
	var alarmRefs []interfacesawscloudwatch.IAlarmRef
	for _, a := range o.alarms {
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
	m, five := o.p.Compute.Alb.Metrics(), minutes(5)
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
			metric("ECS/ContainerInsights", "RunningTaskCount", dims, "Average", minutes(1)),
			metric("ECS/ContainerInsights", "DesiredTaskCount", dims, "Average", minutes(1)))
	}
	return []awscloudwatch.IWidget{graph("ECS CPU %", 8, cpu), graph("ECS memory %", 8, mem), graph("ECS running vs desired tasks", 8, tasks)}
}

func (o *obs) dataRow() []awscloudwatch.IWidget {
	db := o.p.Data.Database
	var cpu, mem, ev []awscloudwatch.IMetric
	for _, n := range cacheNodeIDs(o.p.Data.CacheID, o.p.Cfg.Cache.Replicas) {
		dims := map[string]*string{"CacheClusterId": jsii.String(n)}
		cpu = append(cpu, metric("AWS/ElastiCache", "EngineCPUUtilization", dims, "Average", minutes(5)))
		mem = append(mem, metric("AWS/ElastiCache", "DatabaseMemoryUsagePercentage", dims, "Average", minutes(5)))
		ev = append(ev, metric("AWS/ElastiCache", "Evictions", dims, "Sum", minutes(5)))
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
	hour := minutes(60)
	var nat []awscloudwatch.IMetric
	for i, id := range o.p.Net.NatGatewayIDs {
		dims := map[string]*string{"NatGatewayId": id}
		nat = append(nat, combine("SUM", fmt.Sprintf("nat%d", i+1), fmt.Sprintf("NAT gateway %d", i+1), hour, ms(
			metric("AWS/NATGateway", "BytesOutToDestination", dims, "Sum", hour),
			metric("AWS/NATGateway", "BytesOutToSource", dims, "Sum", hour))))
	}
	for _, id := range o.p.Net.NatInstanceIDs {
		nat = append(nat, metric("AWS/EC2", "NetworkOut", map[string]*string{"InstanceId": id}, "Sum", hour))
	}
	var logs []awscloudwatch.IMetric
	for _, g := range o.stageLogGroups() {
		logs = append(logs, metric("AWS/Logs", "IncomingBytes", map[string]*string{"LogGroupName": g}, "Sum", hour))
	}
	row := []awscloudwatch.IWidget{graph("NAT bytes per hour", 8, nat), graph("CloudWatch Logs bytes ingested per hour, by group", 8, logs)}
	if cdn := o.p.Data.MediaCdn; o.p.Cfg.Region == cloudFrontMetricsRegion {
		dims := map[string]*string{"DistributionId": cdn.DistributionId(), "Region": jsii.String("Global")}
		row = append(row, graph("media CDN bytes per hour (left), 5xx % (right)", 8,
			ms(metric("AWS/CloudFront", "BytesDownloaded", dims, "Sum", hour)),
			metric("AWS/CloudFront", "5xxErrorRate", dims, "Average", minutes(5))))
	}
	return row
}

func (o *obs) fleetRow(f watchedFleet) []awscloudwatch.IWidget {
	dims := workerDims(f.cfg.Slug, o.p.Cfg.Stage)
	w := func(name, stat string) awscloudwatch.IMetric {
		return metric(WorkerNamespace, name, dims, stat, minutes(1))
	}
	inService := metric("AWS/AutoScaling", "GroupInServiceInstances", map[string]*string{"AutoScalingGroupName": jsii.String(f.asgName)}, "Average", minutes(1))
	title := "fleet " + f.cfg.Slug + ": "
	return []awscloudwatch.IWidget{
		graph(title+"queue depth", 5, ms(w("QueueDepth", "Maximum"))),
		graph(title+"backlog per instance", 5, ms(w("BacklogPerInstance", "Average"))),
		graph(title+"workers vs instances", 5, ms(w("ActiveWorkers", "Average"), w("AvailableCapacity", "Average"), inService)),
		graph(title+"errors", 5, ms(w("ErrorRate", "Average")), w("LeaseExpiredCount", "Sum")),
		graph(title+"Spot interruptions", 4, ms(w("SpotInterruptionCount", "Sum"))),
	}
}
