package test

import (
	"sort"
	"strings"
	"testing"
)

// physicalNameKeys are the properties that set a physical (account-wide)
// name. Two stages sharing one would collide on deploy (review blocker 8).
var physicalNameKeys = map[string]bool{
	"TopicName": true, "FunctionName": true, "LogGroupName": true, "AlarmName": true, "Name": true,
	"BucketName": true, "RepositoryName": true, "ClusterName": true, "ServiceName": true, "Family": true,
	"DashboardName": true, "BudgetName": true, "AutoScalingGroupName": true, "LaunchTemplateName": true,
	"DBInstanceIdentifier": true, "ReplicationGroupId": true, "CacheSubnetGroupName": true, "SecretName": true,
	"RoleName": true, "TargetGroupName": true, "LoadBalancerName": true, "CachePolicyName": true,
	"RuleName": true, "ScheduledActionName": true, "VpcName": true, "StackName": true,
}

// physicalNames collects name -> where for every literal physical name.
func physicalNames(b *built) map[string]string {
	out := map[string]string{}
	for kind, tpl := range b.templates {
		for _, r := range tpl.Resources("") {
			// Physical names are top-level properties; nested "Name"s are
			// volumes, settings or dimensions.
			for key, v := range r.Props {
				name, ok := v.(string)
				if !ok || !physicalNameKeys[key] || r.Type == "AWS::RDS::DBParameterGroup" && key == "Family" {
					continue
				}
				out[name] = kind + "/" + r.LogicalID + "." + key
			}
		}
	}
	return out
}

// TestBlocker8_NoPhysicalNameSharedBetweenStages synthesizes both stages and
// fails on any physical name (topics, functions, log groups, alarms, buckets,
// repositories...) that both use. The old scale-to-zero topic had one name for
// every stage.
func TestBlocker8_NoPhysicalNameSharedBetweenStages(t *testing.T) {
	staging, production := physicalNames(stages["staging"]), physicalNames(stages["production"])
	if len(staging) < 20 {
		t.Fatalf("found only %d physical names in staging: the walk is broken", len(staging))
	}
	var shared []string
	for name, where := range staging {
		if other, ok := production[name]; ok {
			shared = append(shared, name+" (staging "+where+", production "+other+")")
		}
	}
	sort.Strings(shared)
	if len(shared) > 0 {
		t.Errorf("%d physical names are shared between stages:\n  %s", len(shared), strings.Join(shared, "\n  "))
	}
	for name, where := range staging {
		if !strings.Contains(name, "staging") {
			t.Errorf("staging name %q (%s) does not carry the stage", name, where)
		}
	}
}
