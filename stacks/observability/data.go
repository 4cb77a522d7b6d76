package observability

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/jsii-runtime-go"

	"github.com/bp/infra/constructs/alarms"
)

// rdsCpuCriticalPercent is the old system's critical RDS CPU line (system-facts 9).
const rdsCpuCriticalPercent = 95

// dataAlarms watch RDS and the cache.
func (o *obs) dataAlarms() {
	a, five, db := o.a, alarms.Minutes(5), o.p.Data.Database
	o.alarm("rds-cpu", alarms.Spec{
		Summary:   fmt.Sprintf("RDS CPU >= %d%% for 15 min", a.RdsCpuPercent),
		Runbook:   "find the heavy queries in the slow query log (/aws/rds/instance/.../slowquery); consider a larger instanceClass",
		Metric:    db.MetricCPUUtilization(&awscloudwatch.MetricOptions{Period: five}),
		Threshold: float64(a.RdsCpuPercent), Comparison: gte, Periods: 3, Missing: notBreaching,
	})
	o.alarm("rds-cpu-critical", alarms.Spec{
		Summary:   fmt.Sprintf("RDS CPU >= %d%% for 10 min (critical)", rdsCpuCriticalPercent),
		Runbook:   "the database is saturated: kill runaway queries (SHOW PROCESSLIST), pause the queue workers, then scale the instance",
		Metric:    db.MetricCPUUtilization(&awscloudwatch.MetricOptions{Period: five}),
		Threshold: rdsCpuCriticalPercent, Comparison: gte, Periods: 2, Missing: notBreaching,
	})
	// No data means the instance is stopped or gone: page on it once, here.
	o.alarm("rds-free-storage", alarms.Spec{
		Summary:   fmt.Sprintf("RDS free storage < %d GiB", a.RdsFreeStorageGb),
		Runbook:   "storage autoscaling is capped at maxAllocatedStorageGb: find what grew (tenant pools, logs tables), then raise the cap in config",
		Metric:    db.MetricFreeStorageSpace(&awscloudwatch.MetricOptions{Period: five, Statistic: jsii.String("Minimum")}),
		Threshold: float64(a.RdsFreeStorageGb) * alarms.GiB, Comparison: lt, Periods: 1, Missing: breaching,
	})
	o.alarm("rds-connections", alarms.Spec{
		Summary:   fmt.Sprintf("RDS connections >= %d for 15 min (max_connections %d)", a.RdsConnections, o.p.Cfg.Database.MaxConnections),
		Runbook:   "count php-fpm workers x tasks plus queue workers; look for leaked connections, scale tasks down or raise maxConnections",
		Metric:    db.MetricDatabaseConnections(&awscloudwatch.MetricOptions{Period: five, Statistic: jsii.String("Maximum")}),
		Threshold: float64(a.RdsConnections), Comparison: gte, Periods: 3, Missing: notBreaching,
	})
	nodes := cacheNodeIDs(o.p.Data.CacheID, o.p.Cfg.Cache.Replicas)
	perNode := func(name, stat string) []awscloudwatch.IMetric {
		var ms []awscloudwatch.IMetric
		for _, n := range nodes {
			ms = append(ms, alarms.Metric("AWS/ElastiCache", name, map[string]*string{"CacheClusterId": jsii.String(n)}, stat, five))
		}
		return ms
	}
	o.alarm("cache-cpu", alarms.Spec{
		Summary:   fmt.Sprintf("cache engine CPU >= %d%% on a node for 15 min", a.CacheCpuPercent),
		Runbook:   "Redis is single-threaded: look for big KEYS/SCAN or Lua calls in the slow log (/bp/<stage>/logs/cache/slow-log); consider a larger nodeType",
		Metric:    alarms.Combine("MAX", "cachecpu", "cache engine CPU (max of nodes)", five, perNode("EngineCPUUtilization", "Average")),
		Threshold: float64(a.CacheCpuPercent), Comparison: gte, Periods: 3, Missing: notBreaching,
	})
	o.alarm("cache-memory", alarms.Spec{
		Summary:   fmt.Sprintf("cache memory >= %d%% on a node for 15 min", a.CacheMemoryPercent),
		Runbook:   "keys without TTL are piling up (sessions, cache tags): check the biggest keys, set TTLs, or use a larger nodeType",
		Metric:    alarms.Combine("MAX", "cachemem", "cache memory % (max of nodes)", five, perNode("DatabaseMemoryUsagePercentage", "Average")),
		Threshold: float64(a.CacheMemoryPercent), Comparison: gte, Periods: 3, Missing: notBreaching,
	})
	o.alarm("cache-evictions", alarms.Spec{
		Summary:   fmt.Sprintf("cache evicted >= %d keys in 5 min", a.CacheEvictions),
		Runbook:   "the cache is full and drops keys (sessions log users out): act as for cache-memory",
		Metric:    alarms.Combine("MAX", "cacheev", "cache evictions (max of nodes)", five, perNode("Evictions", "Sum")),
		Threshold: float64(a.CacheEvictions), Comparison: gte, Periods: 1, Missing: notBreaching,
	})
}

// cacheNodeIDs are the member clusters ElastiCache names <group>-001, -002, ...
func cacheNodeIDs(group string, replicas int) []string {
	out := make([]string, 0, replicas+1)
	for i := 1; i <= replicas+1; i++ {
		out = append(out, fmt.Sprintf("%s-%03d", group, i))
	}
	return out
}
