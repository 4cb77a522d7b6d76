package data

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awselasticache"
	"github.com/aws/jsii-runtime-go"
	"github.com/bp/infra/stacks/base"
	"github.com/bp/infra/stacks/network"
)

// addCache creates the Redis-compatible cache: TLS in transit, encrypted at
// rest, AUTH token from Secrets Manager (a dynamic reference, never plaintext),
// private subnets, reachable from the backend group only.
func addCache(stack awscdk.Stack, p Props, d *Data) {
	c := p.Cfg.Cache
	id := p.Names.Resource("cache")
	subnets := p.Net.Vpc.PrivateSubnets()
	ids := make([]interface{}, 0, len(*subnets))
	for _, s := range *subnets {
		ids = append(ids, s.SubnetId())
	}
	group := awselasticache.NewCfnSubnetGroup(stack, jsii.String("CacheSubnets"), &awselasticache.CfnSubnetGroupProps{
		CacheSubnetGroupName: jsii.String(id),
		Description:          jsii.String(id + " private subnets"),
		SubnetIds:            &ids,
	})
	slowLog := base.LogGroup(stack, "CacheSlowLog", p.Names.LogGroup("cache/slow-log"), p.Cfg.LogRetentionDays)
	rg := awselasticache.NewCfnReplicationGroup(stack, jsii.String("Cache"), &awselasticache.CfnReplicationGroupProps{
		ReplicationGroupId:          jsii.String(id),
		ReplicationGroupDescription: jsii.String(id + " (Laravel cache and sessions)"),
		Engine:                      jsii.String(c.Engine),
		EngineVersion:               jsii.String(c.EngineVersion),
		CacheNodeType:               jsii.String(c.NodeType),
		NumCacheClusters:            jsii.Number(float64(c.Replicas + 1)),
		AutomaticFailoverEnabled:    jsii.Bool(c.Replicas > 0),
		MultiAzEnabled:              jsii.Bool(c.Replicas > 0),
		CacheSubnetGroupName:        group.Ref(), // a Ref, so the group is created first
		SecurityGroupIds:            &[]*string{p.Net.SecurityGroups.Cache.SecurityGroupId()},
		Port:                        jsii.Number(network.CachePort),
		TransitEncryptionEnabled:    jsii.Bool(true),
		AtRestEncryptionEnabled:     jsii.Bool(true),
		AuthToken:                   d.CacheAuthSecret.SecretValue().UnsafeUnwrap(), // a {{resolve:secretsmanager}} reference
		SnapshotRetentionLimit:      jsii.Number(3),
		AutoMinorVersionUpgrade:     jsii.Bool(true),
		LogDeliveryConfigurations: &[]interface{}{&awselasticache.CfnReplicationGroup_LogDeliveryConfigurationRequestProperty{
			DestinationType: jsii.String("cloudwatch-logs"),
			LogFormat:       jsii.String("json"),
			LogType:         jsii.String("slow-log"),
			DestinationDetails: &awselasticache.CfnReplicationGroup_DestinationDetailsProperty{
				CloudWatchLogsDetails: &awselasticache.CfnReplicationGroup_CloudWatchLogsDestinationDetailsProperty{LogGroup: slowLog.LogGroupName()},
			},
		}},
	})
	// Production keeps a final snapshot (sessions) when the group is deleted
	// or replaced; non-production stages are disposable.
	if p.Cfg.IsProduction() {
		rg.ApplyRemovalPolicy(awscdk.RemovalPolicy_SNAPSHOT, nil)
	}
	d.CacheHost = rg.AttrPrimaryEndPointAddress()
	d.CachePort = rg.AttrPrimaryEndPointPort()
	d.CacheID = id
}
