package observability

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecs"
	elbv2 "github.com/aws/aws-cdk-go/awscdk/v2/awselasticloadbalancingv2"
	"github.com/aws/jsii-runtime-go"

	"github.com/bp/infra/constructs/alarms"
)

// webAlarms watch the ALB, its target groups and the two ECS services.
func (o *obs) webAlarms() {
	c, a := o.p.Compute, o.a
	five := alarms.Minutes(5)
	m := c.Alb.Metrics()
	elb5xx := m.HttpCodeElb(elbv2.HttpCodeElb_ELB_5XX_COUNT, &awscloudwatch.MetricOptions{Period: five, Statistic: jsii.String("Sum")})
	o.alarm("alb-5xx-warning", alarms.Spec{
		Summary: fmt.Sprintf("ALB-generated 5xx >= %d in 5 min (warning)", a.Alb5xxWarning),
		Runbook: "502/503/504 from the ALB itself mean no healthy or slow targets: check target health and the ECS service events on the dashboard",
		Metric:  elb5xx, Threshold: float64(a.Alb5xxWarning), Comparison: gte, Periods: 1, Missing: notBreaching,
	})
	o.alarm("alb-5xx-critical", alarms.Spec{
		Summary: fmt.Sprintf("ALB-generated 5xx >= %d in 5 min (critical)", a.Alb5xxCritical),
		Runbook: "users are failing now: check ECS tasks and target health, roll back the last deploy if it started with it (aws ecs update-service --task-definition <previous>)",
		Metric:  elb5xx, Threshold: float64(a.Alb5xxCritical), Comparison: gte, Periods: 1, Missing: notBreaching,
	})
	o.alarm("target-5xx", alarms.Spec{
		Summary:   fmt.Sprintf("targets answered 5xx >= %d times in 5 min", a.Target5xx),
		Runbook:   "the app itself fails: read the backend php-fpm/nginx and frontend logs for the stack trace, then the RDS and cache alarms",
		Metric:    m.HttpCodeTarget(elbv2.HttpCodeTarget_TARGET_5XX_COUNT, &awscloudwatch.MetricOptions{Period: five, Statistic: jsii.String("Sum")}),
		Threshold: float64(a.Target5xx), Comparison: gte, Periods: 1, Missing: notBreaching,
	})
	o.alarm("latency-p95", alarms.Spec{
		Summary:   fmt.Sprintf("target response time p95 > %gs for 15 min", a.LatencyP95Seconds),
		Runbook:   "check backend CPU/memory, RDS CPU and connections, and the slow query log; scale the backend if CPU-bound",
		Metric:    m.TargetResponseTime(&awscloudwatch.MetricOptions{Period: five, Statistic: jsii.String("p95")}),
		Threshold: a.LatencyP95Seconds, Comparison: gt, Periods: 3, Missing: notBreaching,
	})
	for _, t := range []struct {
		name string
		tg   elbv2.ApplicationTargetGroup
	}{{"backend", c.BackendTargets}, {"frontend", c.FrontendTargets}} {
		o.alarm(t.name+"-unhealthy-hosts", alarms.Spec{
			Summary:   "the " + t.name + " target group has had an unhealthy target for 5 min",
			Runbook:   "read the failing task's logs and the health check (backend: GET /up on nginx:80, frontend: nextjs:3000); ECS replaces failing tasks",
			Metric:    unhealthyHosts(c.Alb, t.tg),
			Threshold: 1, Comparison: gte, Periods: 5, Missing: notBreaching,
		})
	}
	o.serviceAlarms("backend", c.Backend)
	o.serviceAlarms("frontend", c.Frontend)
}

func (o *obs) serviceAlarms(name string, svc awsecs.FargateService) {
	a := o.a
	o.alarm(name+"-cpu", alarms.Spec{
		Summary:   fmt.Sprintf("ECS %s CPU >= %d%% for 15 min", name, a.EcsCpuPercent),
		Runbook:   "autoscaling should add tasks; if at maxCount raise it or the task cpu in config, and look for a hot endpoint in the logs",
		Metric:    svc.MetricCpuUtilization(&awscloudwatch.MetricOptions{Period: alarms.Minutes(5)}),
		Threshold: float64(a.EcsCpuPercent), Comparison: gte, Periods: 3, Missing: notBreaching,
	})
	o.alarm(name+"-memory", alarms.Spec{
		Summary:   fmt.Sprintf("ECS %s memory >= %d%% for 15 min", name, a.EcsMemoryPercent),
		Runbook:   "tasks near their limit get OOM-killed: check for a leak in the logs, raise memoryMiB in config",
		Metric:    svc.MetricMemoryUtilization(&awscloudwatch.MetricOptions{Period: alarms.Minutes(5)}),
		Threshold: float64(a.EcsMemoryPercent), Comparison: gte, Periods: 3, Missing: notBreaching,
	})
	dims := map[string]*string{"ClusterName": svc.Cluster().ClusterName(), "ServiceName": svc.ServiceName()}
	one := alarms.Minutes(1)
	missing := awscloudwatch.NewMathExpression(&awscloudwatch.MathExpressionProps{
		Expression: jsii.String("FILL(desired, 0) - FILL(running, 0)"),
		UsingMetrics: &map[string]awscloudwatch.IMetric{
			"desired": alarms.Metric("ECS/ContainerInsights", "DesiredTaskCount", dims, "Maximum", one),
			"running": alarms.Metric("ECS/ContainerInsights", "RunningTaskCount", dims, "Minimum", one),
		},
		Label:  jsii.String(name + " tasks missing"),
		Period: one,
	})
	// A deploy or a Spot replacement dips below desired for a few minutes;
	// ten minutes means tasks cannot start.
	o.alarm(name+"-tasks-below-desired", alarms.Spec{
		Summary: "ECS " + name + " has run fewer tasks than desired for 10 min (Container Insights)",
		Runbook: "tasks fail to start or crash-loop: read stopped-task reasons (aws ecs describe-tasks), image pull errors and secrets access",
		Metric:  missing, Threshold: 1, Comparison: gte, Periods: 10, Missing: notBreaching,
	})
}

// unhealthyHosts is a target group's UnHealthyHostCount. CDK's own metric
// takes the load balancer from the group's first listener, which would tie
// this stack to the listener export that a switch of allowHttpOnly deletes;
// the load balancer's full name is there in every config.
func unhealthyHosts(alb elbv2.ApplicationLoadBalancer, tg elbv2.ApplicationTargetGroup) awscloudwatch.IMetric {
	return alarms.Metric("AWS/ApplicationELB", "UnHealthyHostCount",
		map[string]*string{"LoadBalancer": alb.LoadBalancerFullName(), "TargetGroup": tg.TargetGroupFullName()}, "Maximum", alarms.Minutes(1))
}
