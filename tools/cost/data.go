package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/bp/infra/internal/cfn"
)

// estimateDBInstance prices an RDS instance (Multi-AZ doubles the hourly
// price) and its allocated storage, and notes what can grow silently.
func estimateDBInstance(e *stackEstimate, id string, res cfn.Resource) {
	p := e.p
	props := res.Properties
	key := "rds/" + id
	if _, ok := props["DBClusterIdentifier"]; ok {
		e.unpriced(key, "database", id, res.Type, "Aurora cluster instance", "Aurora instances are not in the price file")
		return
	}
	engine, err := e.r.String(props["Engine"])
	if err != nil {
		e.unpriced(key, "database", id, res.Type, "RDS instance", why("Engine", err))
		return
	}
	class, err := e.r.String(props["DBInstanceClass"])
	if err != nil {
		e.unpriced(key, "database", id, res.Type, "RDS "+engine, why("DBInstanceClass", err))
		return
	}
	multiAZ := false
	if v, ok := props["MultiAZ"]; ok {
		if multiAZ, err = e.r.Bool(v); err != nil {
			e.unpriced(key, "database", id, res.Type, "RDS "+engine+" "+class, why("MultiAZ", err))
			return
		}
	}
	az, factor := "single-AZ", 1.0
	if multiAZ {
		az, factor = "Multi-AZ", p.RDS.MultiAZFactor
	}
	desc := fmt.Sprintf("RDS %s %s %s", engine, class, az)
	price, ok := p.RDS.InstanceHour[class]
	switch {
	case !slices.Contains(p.RDS.Engines, engine):
		e.unpriced(key, "database", id, res.Type, desc, "engine "+engine+" has no price in the price file")
	case !ok:
		e.unpriced(key, "database", id, res.Type, desc, "instance class "+class+" has no price in the price file")
	default:
		e.add(key, "database", id, res.Type, desc, p.HoursPerMonth, hoursUnit, price*factor)
	}
	estimateDBStorage(e, id, res, multiAZ, az)
	notePerformanceInsights(e, id, props)
	e.usagePrice("RDS backup storage beyond the DB size", "GB-month", p.RDS.BackupGBMonth)
}

func estimateDBStorage(e *stackEstimate, id string, res cfn.Resource, multiAZ bool, az string) {
	props := res.Properties
	key := "rds/" + id + "/storage"
	gb, err := e.r.Number(props["AllocatedStorage"])
	if err != nil {
		e.unpriced(key, "database", id, res.Type, "RDS storage", why("AllocatedStorage", err))
		return
	}
	st := "gp2" // CloudFormation's default without Iops
	if v, ok := props["StorageType"]; ok {
		st, _ = e.r.String(v)
	}
	rates, ok := e.p.RDS.StorageGBMonth[st]
	if !ok {
		e.unpriced(key, "database", id, res.Type, "RDS "+st+" storage", "storage type "+st+" has no price in the price file")
		return
	}
	rate := rates.SingleAZ
	if multiAZ {
		rate = rates.MultiAZ
	}
	e.add(key, "database", id, res.Type, fmt.Sprintf("RDS %s storage %s GB %s", st, fmtQty(gb), az), gb, "GB-months", rate)
	if v, ok := props["MaxAllocatedStorage"]; ok {
		if maxGB, err := e.r.Number(v); err == nil && maxGB > gb {
			e.note(id, "storage autoscaling may grow %s GB to %s GB silently: up to +$%.2f/month", fmtQty(gb), fmtQty(maxGB), (maxGB-gb)*rate)
		}
	}
}

func notePerformanceInsights(e *stackEstimate, id string, props map[string]any) {
	on, err := e.r.Bool(props["EnablePerformanceInsights"])
	if err != nil || !on {
		return
	}
	days := 7.0
	if v, ok := props["PerformanceInsightsRetentionPeriod"]; ok {
		if d, err := e.r.Number(v); err == nil {
			days = d
		}
	}
	if days <= 7 {
		e.note(id, "Performance Insights on with %s-day retention (free tier)", fmtQty(days))
		return
	}
	e.note(id, "Performance Insights retention %s days is billed per vCPU-month and is NOT in this total", fmtQty(days))
}

func estimateDBCluster(e *stackEstimate, id string, res cfn.Resource) {
	e.unpriced("rds-cluster/"+id, "database", id, res.Type, "RDS/Aurora cluster storage and I/O", "DB clusters are not in the price file")
}

// estimateReplicationGroup prices CacheNodeType x node count:
// NumCacheClusters, or NumNodeGroups*(ReplicasPerNodeGroup+1), or the node
// group configuration.
func estimateReplicationGroup(e *stackEstimate, id string, res cfn.Resource) {
	props := res.Properties
	key := "cache/" + id
	nodes, how, err := e.replicationGroupNodes(props)
	if err != nil {
		e.unpriced(key, "cache", id, res.Type, "ElastiCache replication group", err.Error())
		return
	}
	e.cacheNodes(key, id, res, props["CacheNodeType"], nodes, how)
}

func (e *stackEstimate) replicationGroupNodes(props map[string]any) (float64, string, error) {
	if v, ok := props["NumCacheClusters"]; ok {
		n, err := e.r.Number(v)
		if err != nil {
			return 0, "", fmt.Errorf("%s", why("NumCacheClusters", err))
		}
		return n, "NumCacheClusters", nil
	}
	replicas := 0.0
	if v, ok := props["ReplicasPerNodeGroup"]; ok {
		r, err := e.r.Number(v)
		if err != nil {
			return 0, "", fmt.Errorf("%s", why("ReplicasPerNodeGroup", err))
		}
		replicas = r
	}
	if v, ok := props["NumNodeGroups"]; ok {
		g, err := e.r.Number(v)
		if err != nil {
			return 0, "", fmt.Errorf("%s", why("NumNodeGroups", err))
		}
		return g * (replicas + 1), fmt.Sprintf("%s shards x %s nodes", fmtQty(g), fmtQty(replicas+1)), nil
	}
	if groups, ok := props["NodeGroupConfiguration"].([]any); ok && len(groups) > 0 {
		total := 0.0
		for _, g := range groups {
			m, _ := g.(map[string]any)
			rc := replicas
			if v, ok := m["ReplicaCount"]; ok {
				r, err := e.r.Number(v)
				if err != nil {
					return 0, "", fmt.Errorf("%s", why("ReplicaCount", err))
				}
				rc = r
			}
			total += rc + 1
		}
		return total, "NodeGroupConfiguration", nil
	}
	return 1, "one primary (no node count set)", nil
}

func estimateCacheCluster(e *stackEstimate, id string, res cfn.Resource) {
	n, err := e.r.Number(res.Properties["NumCacheNodes"])
	if err != nil {
		e.unpriced("cache/"+id, "cache", id, res.Type, "ElastiCache cluster", why("NumCacheNodes", err))
		return
	}
	e.cacheNodes("cache/"+id, id, res, res.Properties["CacheNodeType"], n, "NumCacheNodes")
}

// cacheNodes prices nodes x the hourly node price of the group's engine
// (Valkey lists below Redis OSS); a group without Engine runs Redis OSS.
func (e *stackEstimate) cacheNodes(key, id string, res cfn.Resource, nodeType any, nodes float64, how string) {
	typ, err := e.r.String(nodeType)
	if err != nil {
		e.unpriced(key, "cache", id, res.Type, "ElastiCache nodes", why("CacheNodeType", err))
		return
	}
	engine := e.p.ElastiCache.DefaultEngine
	if v, ok := res.Properties["Engine"]; ok {
		if engine, err = e.r.String(v); err != nil {
			e.unpriced(key, "cache", id, res.Type, "ElastiCache "+typ+" nodes", why("Engine", err))
			return
		}
		engine = strings.ToLower(engine)
	}
	desc := fmt.Sprintf("ElastiCache %s %s x %s (%s)", engine, typ, fmtQty(nodes), how)
	table, ok := e.p.ElastiCache.NodeHour[engine]
	if !ok {
		e.unpriced(key, "cache", id, res.Type, desc, "engine "+engine+" has no node prices in the price file")
		return
	}
	price, ok := table[typ]
	if !ok {
		e.unpriced(key, "cache", id, res.Type, desc, "node type "+typ+" has no "+engine+" price in the price file")
		return
	}
	e.add(key, "cache", id, res.Type, desc, nodes*e.p.HoursPerMonth, "node-hours", price)
	if v, ok := res.Properties["SnapshotRetentionLimit"]; ok {
		if n, err := e.r.Number(v); err == nil && n > 0 {
			e.usagePrice("ElastiCache backup storage beyond one free snapshot per cluster", "GB-month", e.p.ElastiCache.BackupGBMonth)
		}
	}
}

// estimateServerlessCache has no fixed node price: it is billed per GB-hour
// stored and per ECPU, so it is noted rather than totalled.
func estimateServerlessCache(e *stackEstimate, id string, _ cfn.Resource) {
	e.note(id, "ElastiCache Serverless: billed per GB-hour of data stored (with a minimum) and per ECPU; not in the fixed total")
	e.usageUnpriced("ElastiCache Serverless data stored and ECPUs", "GB-hour, ECPU")
}
