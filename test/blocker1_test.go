package test

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/bp/infra/config"
)

// differingFields lists the dotted paths of every field whose preset value
// differs between staging and production.
func differingFields(a, b reflect.Value, prefix string, out *[]string) {
	switch a.Kind() {
	case reflect.Struct:
		for i := 0; i < a.NumField(); i++ {
			name := strings.Split(a.Type().Field(i).Tag.Get("json"), ",")[0]
			differingFields(a.Field(i), b.Field(i), join(prefix, name), out)
		}
	case reflect.Slice:
		if a.Len() != b.Len() {
			*out = append(*out, prefix)
			return
		}
		for i := 0; i < a.Len(); i++ {
			differingFields(a.Index(i), b.Index(i), fmt.Sprintf("%s[%d]", prefix, i), out)
		}
	default:
		if !reflect.DeepEqual(a.Interface(), b.Interface()) {
			*out = append(*out, prefix)
		}
	}
}

func join(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "." + name
}

// stageCheck asserts that one setting reached a stage's templates.
type stageCheck func(t *testing.T, b *built)

// first returns the first resource, or an empty one that fails every check.
func first(rs []Resource) Resource {
	if len(rs) == 0 {
		return Resource{Props: map[string]any{}, Raw: map[string]any{}}
	}
	return rs[0]
}

func service(b *built, svc string) Resource {
	return first(b.templates["compute"].Where("AWS::ECS::Service", "ServiceName", b.stage.Names.Service(svc)))
}

func taskDef(b *built, svc string) Resource {
	return first(b.templates["compute"].Where("AWS::ECS::TaskDefinition", "Family", b.stage.Names.Service(svc)))
}

func scalingTarget(b *built, svc string) Resource {
	for _, r := range b.templates["compute"].Resources("AWS::ApplicationAutoScaling::ScalableTarget") {
		if strings.Contains(strings.ToLower(r.LogicalID), svc) {
			return r
		}
	}
	return Resource{}
}

func scalingPolicy(b *built, svc string) Resource {
	for _, r := range b.templates["compute"].Resources("AWS::ApplicationAutoScaling::ScalingPolicy") {
		if strings.Contains(strings.ToLower(r.LogicalID), svc) {
			return r
		}
	}
	return Resource{}
}

func expect(t *testing.T, b *built, what string, got, want any) {
	t.Helper()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("%s: %s = %v in the template, config says %v", b.label, what, got, want)
	}
}

func serviceChecks(svc string, sizes func(config.Stage) config.Service) map[string]stageCheck {
	return map[string]stageCheck{
		svc + ".cpu": func(t *testing.T, b *built) {
			expect(t, b, svc+" cpu", taskDef(b, svc).Props["Cpu"], sizes(b.stage.Cfg).Cpu)
		},
		svc + ".memoryMiB": func(t *testing.T, b *built) {
			expect(t, b, svc+" memory", taskDef(b, svc).Props["Memory"], sizes(b.stage.Cfg).MemoryMiB)
		},
		svc + ".minCount": func(t *testing.T, b *built) {
			expect(t, b, svc+" min", num(scalingTarget(b, svc).Props["MinCapacity"]), float64(sizes(b.stage.Cfg).MinCount))
		},
		svc + ".maxCount": func(t *testing.T, b *built) {
			expect(t, b, svc+" max", num(scalingTarget(b, svc).Props["MaxCapacity"]), float64(sizes(b.stage.Cfg).MaxCount))
		},
		svc + ".cpuTargetPercent": func(t *testing.T, b *built) {
			expect(t, b, svc+" cpu target", num(get(scalingPolicy(b, svc).Props, "TargetTrackingScalingPolicyConfiguration.TargetValue")),
				float64(sizes(b.stage.Cfg).CpuTargetPercent))
		},
	}
}

// presetChecks maps every setting that differs between the presets to the
// template evidence that each stage used its own value.
func presetChecks() map[string]stageCheck {
	checks := map[string]stageCheck{
		"stage": func(t *testing.T, b *built) {
			expect(t, b, "cluster name", b.templates["compute"].One(t, "AWS::ECS::Cluster").Props["ClusterName"], "bp-"+b.stage.Cfg.Stage)
		},
		"logRetentionDays": func(t *testing.T, b *built) {
			for kind, tpl := range b.templates {
				for _, lg := range tpl.Resources("AWS::Logs::LogGroup") {
					expect(t, b, kind+"/"+lg.LogicalID+" retention", num(lg.Props["RetentionInDays"]), wantRetention(b, lg))
				}
			}
		},
		"logLevel": func(t *testing.T, b *built) {
			php := container(t, b.templates["compute"], b.stage.Names.Service("backend"), "php-fpm")
			expect(t, b, "LOG_LEVEL", envNames(php, "Environment")["LOG_LEVEL"], b.stage.Cfg.LogLevel)
		},
		"network.natCount": func(t *testing.T, b *built) {
			nats := len(b.templates["network"].Resources("AWS::EC2::NatGateway")) + len(b.templates["network"].Resources("AWS::EC2::Instance"))
			expect(t, b, "NAT gateways and instances", nats, b.stage.Cfg.Network.NatCount)
		},
		"network.natKind": func(t *testing.T, b *built) {
			gateways := len(b.templates["network"].Resources("AWS::EC2::NatGateway"))
			expect(t, b, "NAT kind", map[bool]string{true: "gateway", false: "instance"}[gateways > 0], b.stage.Cfg.Network.NatKind)
		},
		"cluster.fargateWeight": func(t *testing.T, b *built) {
			expect(t, b, "Fargate weight", strings.Contains(str(service(b, "backend").Props["CapacityProviderStrategy"]),
				fmt.Sprintf(`"CapacityProvider":"FARGATE","Weight":%d`, b.stage.Cfg.Cluster.FargateWeight)), true)
		},
		"network.interfaceEndpoints": func(t *testing.T, b *built) {
			n := len(b.templates["network"].Where("AWS::EC2::VPCEndpoint", "VpcEndpointType", "Interface"))
			expect(t, b, "interface endpoints", n, len(b.stage.Cfg.Network.InterfaceEndpoints))
		},
		"database.instanceClass": func(t *testing.T, b *built) {
			expect(t, b, "RDS class", b.templates["data"].One(t, "AWS::RDS::DBInstance").Props["DBInstanceClass"], b.stage.Cfg.Database.InstanceClass)
		},
		"database.multiAz": func(t *testing.T, b *built) {
			expect(t, b, "Multi-AZ", b.templates["data"].One(t, "AWS::RDS::DBInstance").Props["MultiAZ"], b.stage.Cfg.Database.MultiAz)
		},
		"database.deletionProtection": func(t *testing.T, b *built) {
			expect(t, b, "deletion protection", b.templates["data"].One(t, "AWS::RDS::DBInstance").Props["DeletionProtection"], b.stage.Cfg.Database.DeletionProtection)
		},
		"database.removalPolicy": func(t *testing.T, b *built) {
			want := map[string]string{"snapshot": "Snapshot", "retain": "Retain"}[b.stage.Cfg.Database.RemovalPolicy]
			expect(t, b, "RDS DeletionPolicy", b.templates["data"].One(t, "AWS::RDS::DBInstance").Raw["DeletionPolicy"], want)
		},
		"cache.nodeType": func(t *testing.T, b *built) {
			expect(t, b, "cache node", b.templates["data"].One(t, "AWS::ElastiCache::ReplicationGroup").Props["CacheNodeType"], b.stage.Cfg.Cache.NodeType)
		},
		"cache.replicas": func(t *testing.T, b *built) {
			expect(t, b, "cache nodes", num(b.templates["data"].One(t, "AWS::ElastiCache::ReplicationGroup").Props["NumCacheClusters"]), float64(b.stage.Cfg.Cache.Replicas+1))
		},
		"cluster.fargateSpotWeight": func(t *testing.T, b *built) {
			expect(t, b, "Spot weight", strings.Contains(str(service(b, "backend").Props["CapacityProviderStrategy"]),
				fmt.Sprintf(`"CapacityProvider":"FARGATE_SPOT","Weight":%d`, b.stage.Cfg.Cluster.FargateSpotWeight)), true)
		},
		"cluster.fargateBase": func(t *testing.T, b *built) {
			expect(t, b, "Fargate base", strings.Contains(str(service(b, "backend").Props["CapacityProviderStrategy"]),
				fmt.Sprintf(`"Base":%d`, b.stage.Cfg.Cluster.FargateBase)), true)
		},
		"fleets[0].maxSize": func(t *testing.T, b *built) {
			asg := b.templates["gpu-fleet"].One(t, "AWS::AutoScaling::AutoScalingGroup")
			expect(t, b, "GPU fleet max", asg.Props["MaxSize"], fmt.Sprint(b.stage.Cfg.Fleets[0].MaxSize))
		},
		"fleets[0].onDemandFallback.enabled": func(t *testing.T, b *built) {
			_, built := function(b.templates["gpu-fleet"], b.stage.Names.Function("spot-fallback"))
			expect(t, b, "spot-fallback function", built, b.stage.Cfg.Fleets[0].OnDemandFallback.Enabled)
		},
		"fleets[0].onDemandFallback.maxInstances": func(t *testing.T, b *built) {
			fn, built := function(b.templates["gpu-fleet"], b.stage.Names.Function("spot-fallback"))
			if !built {
				return // off: the bound is not used (the check above)
			}
			var fleets []struct {
				MaxInstances int `json:"maxInstances"`
			}
			_ = json.Unmarshal([]byte(str(get(fn.Props, "Environment.Variables.FLEETS"))), &fleets)
			expect(t, b, "fallback bound", len(fleets) > 0 && fleets[0].MaxInstances == b.stage.Cfg.Fleets[0].OnDemandFallback.MaxInstances, true)
		},
		"fleetSchedule.nightlyScaleToZero": func(t *testing.T, b *built) {
			n := len(b.templates["gpu-fleet"].Resources("AWS::AutoScaling::ScheduledAction"))
			expect(t, b, "nightly scale-to-zero", n > 0, b.stage.Cfg.FleetSchedule.NightlyScaleToZero)
		},
		"cluster.execEnabled": func(t *testing.T, b *built) {
			expect(t, b, "ECS Exec", service(b, "backend").Props["EnableExecuteCommand"], b.stage.Cfg.Cluster.ExecEnabled)
		},
		"network.flowLogRetentionDays": func(t *testing.T, b *built) {
			g := first(b.templates["network"].Where("AWS::Logs::LogGroup", "LogGroupName", b.stage.Names.LogGroup("vpc-flow-logs")))
			expect(t, b, "flow log retention", num(g.Props["RetentionInDays"]), float64(b.stage.Cfg.Network.FlowLogRetentionDays))
		},
		"media.versioned": func(t *testing.T, b *built) {
			media := first(b.templates["data"].Where("AWS::S3::Bucket", "BucketName", b.stage.Names.Bucket("media", b.stage.Cfg.Account)))
			expect(t, b, "media versioning", get(media.Props, "VersioningConfiguration.Status") == "Enabled", b.stage.Cfg.Media.Versioned)
		},
		"waf.enabled": func(t *testing.T, b *built) {
			n := len(b.templates["compute"].Resources("AWS::WAFv2::WebACL"))
			expect(t, b, "ALB web ACL present", n > 0, b.stage.Cfg.Waf.Enabled)
		},
		"monthlyBudgetUsd": func(t *testing.T, b *built) {
			budget := b.templates["observability"].One(t, "AWS::Budgets::Budget")
			expect(t, b, "budget", num(get(budget.Props, "Budget.BudgetLimit.Amount")), float64(b.stage.Cfg.MonthlyBudgetUsd))
		},
	}
	for k, v := range serviceChecks("backend", func(c config.Stage) config.Service { return c.Backend }) {
		checks[k] = v
	}
	for k, v := range serviceChecks("frontend", func(c config.Stage) config.Service { return c.Frontend }) {
		checks[k] = v
	}
	for k, v := range alarmThresholdChecks() {
		checks[k] = v
	}
	return checks
}

// TestBlocker1_EachStageIsBuiltFromItsOwnSettings: for every setting whose
// preset differs between staging and production, each stage's templates carry
// that stage's value (the old app built production from staging's settings).
// A new differing preset without a check here fails the test.
func TestBlocker1_EachStageIsBuiltFromItsOwnSettings(t *testing.T) {
	staging, _ := config.Preset("staging")
	production, _ := config.Preset("production")
	var fields []string
	differingFields(reflect.ValueOf(staging), reflect.ValueOf(production), "", &fields)
	sort.Strings(fields)
	if len(fields) < 10 {
		t.Fatalf("only %d differing presets found: %v", len(fields), fields)
	}
	checks := presetChecks()
	for _, f := range fields {
		check, ok := checks[f]
		if !ok {
			t.Errorf("preset %q differs between stages but no template check proves each stage uses its own value; add one to presetChecks", f)
			continue
		}
		for _, name := range []string{"staging", "production"} {
			check(t, stages[name])
		}
	}
}
