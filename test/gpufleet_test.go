package test

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/bp/infra/bootcontract"
	"github.com/bp/infra/config"
	"github.com/bp/infra/naming"
)

func names(b *built) naming.Names { return naming.New(b.stage.Cfg.AppPrefix, b.stage.Cfg.Stage) }

func fleetLaunchTemplate(t *testing.T, b *built, tpl Template, fc config.Fleet) Resource {
	return fleetResource(t, tpl, "AWS::EC2::LaunchTemplate", "LaunchTemplateName", names(b).FleetLaunchTemplate(fc.Slug))
}

func fleetAsg(t *testing.T, b *built, tpl Template, fc config.Fleet) Resource {
	return fleetResource(t, tpl, "AWS::AutoScaling::AutoScalingGroup", "AutoScalingGroupName", names(b).FleetAsg(fc.Slug))
}

func TestGpuFleetLaunchTemplate(t *testing.T) {
	eachFleet(t, func(t *testing.T, b *built, tpl Template, fc config.Fleet) {
		data := fleetLaunchTemplate(t, b, tpl, fc).Props["LaunchTemplateData"].(map[string]any)
		wantImage := "resolve:ssm:" + fc.AmiParameter
		if fc.AmiID != "" {
			wantImage = fc.AmiID
		}
		if fc.AmiID == "" && fc.AmiParameter != names(b).AmiParameter(fc.Slug) {
			t.Errorf("AMI parameter %q, want the AMI pipeline's %q", fc.AmiParameter, names(b).AmiParameter(fc.Slug))
		}
		if got := str(data["ImageId"]); got != wantImage {
			t.Errorf("ImageId = %s, want %s (resolved by EC2 at launch, no synth lookup)", got, wantImage)
		}
		if got := str(get(data, "MetadataOptions.HttpTokens")); got != "required" {
			t.Errorf("IMDSv2 not required: HttpTokens = %s", got)
		}
		// EC2 User Guide (instance metadata options): with a hop limit of 1
		// the IMDSv2 token reply cannot travel past the instance itself; 2 is
		// for containers behind a bridge, which the GPU workers do not use.
		if hop := num(get(data, "MetadataOptions.HttpPutResponseHopLimit")); hop != 1 {
			t.Errorf("hop limit = %v, want 1", hop)
		}
		bdm, _ := data["BlockDeviceMappings"].([]any)
		if len(bdm) != 1 || str(get(bdm[0], "DeviceName")) != "/dev/sda1" || get(bdm[0], "Ebs.Encrypted") != true ||
			str(get(bdm[0], "Ebs.VolumeType")) != "gp3" || num(get(bdm[0], "Ebs.VolumeSize")) != float64(fc.RootVolumeGb) {
			t.Errorf("root volume = %s, want one encrypted gp3 /dev/sda1 of %d GiB", str(bdm), fc.RootVolumeGb)
		}
		if _, ok := data["KeyName"]; ok {
			t.Errorf("launch template has a key pair: %s", str(data["KeyName"]))
		}
		nics, _ := data["NetworkInterfaces"].([]any)
		if len(nics) != 1 || get(nics[0], "AssociatePublicIpAddress") != false {
			t.Errorf("network interfaces = %s, want one without public IP", str(nics))
		}
		profileOK := false
		for _, ip := range tpl.Resources("AWS::IAM::InstanceProfile") {
			if refTo(get(data, "IamInstanceProfile.Arn"), ip.LogicalID) && strings.Contains(str(ip.Props["Roles"]), "WorkerRole") {
				profileOK = true
			}
		}
		if !profileOK {
			t.Errorf("instance profile = %s, want the profile of the fleet's worker role", str(data["IamInstanceProfile"]))
		}
		if !refTo(get(nics[0], "Groups"), "GpuWorkerSg") {
			t.Errorf("security groups = %s, want the network stack's GPU worker group", str(get(nics[0], "Groups")))
		}
	})
}

func TestGpuFleetAutoScalingGroup(t *testing.T) {
	eachFleet(t, func(t *testing.T, b *built, tpl Template, fc config.Fleet) {
		asg := fleetAsg(t, b, tpl, fc).Props
		if num(asg["MinSize"]) != 0 || num(asg["MaxSize"]) != float64(fc.MaxSize) {
			t.Errorf("size = %v..%v, want 0..%d", asg["MinSize"], asg["MaxSize"], fc.MaxSize)
		}
		if _, ok := asg["DesiredCapacity"]; ok {
			t.Errorf("DesiredCapacity is in the template: every deploy would reset the fleet's scale")
		}
		if subnets, _ := asg["VPCZoneIdentifier"].([]any); len(subnets) != len(b.stage.Cfg.AvailabilityZones) || !strings.Contains(str(subnets), "private") {
			t.Errorf("subnets = %s, want the %d private subnets", str(subnets), len(b.stage.Cfg.AvailabilityZones))
		}
		mip := asg["MixedInstancesPolicy"]
		dist := get(mip, "InstancesDistribution")
		if num(get(dist, "OnDemandBaseCapacity")) != 0 || num(get(dist, "OnDemandPercentageAboveBaseCapacity")) != float64(fc.OnDemandPercent) ||
			str(get(dist, "SpotAllocationStrategy")) != "price-capacity-optimized" {
			t.Errorf("instances distribution = %s, want base 0, %d%% on-demand, price-capacity-optimized", str(dist), fc.OnDemandPercent)
		}
		var types []string
		for _, o := range get(mip, "LaunchTemplate.Overrides").([]any) {
			types = append(types, str(get(o, "InstanceType")))
		}
		if !slices.Equal(types, fc.InstanceTypes) {
			t.Errorf("instance types = %v, want %v", types, fc.InstanceTypes)
		}
		if asg["CapacityRebalance"] != true {
			t.Error("capacity rebalance is off")
		}
		if num(asg["DefaultInstanceWarmup"]) != float64(fc.WarmupSeconds) {
			t.Errorf("DefaultInstanceWarmup = %v, want %d", asg["DefaultInstanceWarmup"], fc.WarmupSeconds)
		}
		if mc, _ := asg["MetricsCollection"].([]any); len(mc) == 0 || str(get(mc[0], "Granularity")) != "1Minute" {
			t.Errorf("group metrics = %s, want 1Minute collection (the scaling math reads them)", str(mc))
		}
		tags := map[string]bool{}
		for _, tag := range asg["Tags"].([]any) {
			if get(tag, "PropagateAtLaunch") == true {
				tags[str(get(tag, "Key"))+"="+str(get(tag, "Value"))] = true
			}
		}
		for _, want := range []string{"FleetSlug=" + fc.Slug, "Stage=" + b.stage.Cfg.Stage} {
			if !tags[want] {
				t.Errorf("tag %s is not propagated at launch", want)
			}
		}
		ok := false
		for _, n := range asg["NotificationConfigurations"].([]any) {
			if refTo(get(n, "TopicARN"), "Alerts") && strings.Contains(str(get(n, "NotificationTypes")), "autoscaling:EC2_INSTANCE_LAUNCH_ERROR") {
				ok = true
			}
		}
		if !ok {
			t.Errorf("no EC2_INSTANCE_LAUNCH_ERROR notification to the alerts topic: %s", str(asg["NotificationConfigurations"]))
		}
	})
}

func TestGpuFleetScalesFromZeroOnQueueDepth(t *testing.T) {
	eachFleet(t, func(t *testing.T, b *built, tpl Template, fc config.Fleet) {
		alarm := fleetResource(t, tpl, "AWS::CloudWatch::Alarm", "AlarmName", names(b).Alarm(fc.Slug+"-queue-has-jobs")).Props
		var queue, desired bool
		for _, m := range alarm["Metrics"].([]any) {
			metric := get(m, "MetricStat.Metric")
			switch str(get(metric, "MetricName")) {
			case "QueueDepth":
				queue = str(get(metric, "Namespace")) == bootcontract.MetricsNamespace && num(get(m, "MetricStat.Period")) == 60 &&
					equalJSON(get(metric, "Dimensions"), []any{map[string]any{"Name": "FleetSlug", "Value": fc.Slug}, map[string]any{"Name": "Stage", "Value": b.stage.Cfg.Stage}})
			case "GroupDesiredCapacity":
				desired = str(get(metric, "Dimensions.0.Value")) == names(b).FleetAsg(fc.Slug)
			}
		}
		if !queue || !desired {
			t.Fatalf("queue-has-jobs alarm must read 1-minute QueueDepth{FleetSlug,Stage} and the group's desired capacity: %s", str(alarm["Metrics"]))
		}
		actions, _ := alarm["AlarmActions"].([]any)
		if len(actions) != 1 {
			t.Fatalf("alarm actions = %s, want the step policy", str(actions))
		}
		var policy Resource
		for _, r := range tpl.Resources("AWS::AutoScaling::ScalingPolicy") {
			if refTo(actions[0], r.LogicalID) {
				policy = r
			}
		}
		if str(policy.Props["PolicyType"]) != "StepScaling" || str(policy.Props["AdjustmentType"]) != "ChangeInCapacity" ||
			num(get(policy.Props, "StepAdjustments.0.ScalingAdjustment")) != 1 || !refTo(policy.Props["AutoScalingGroupName"], "Asg") {
			t.Errorf("0 -> 1 policy = %s, want a step adding one instance to the fleet", str(policy.Props))
		}
	})
}

func TestGpuFleetTracksBacklogPerInstance(t *testing.T) {
	eachFleet(t, func(t *testing.T, b *built, tpl Template, fc config.Fleet) {
		var tt []Resource
		for _, r := range tpl.Where("AWS::AutoScaling::ScalingPolicy", "PolicyType", "TargetTrackingScaling") {
			if strings.Contains(str(r.Props["AutoScalingGroupName"]), "Fleets"+strings.ReplaceAll(fc.Slug, "-", "")) {
				tt = append(tt, r)
			}
		}
		if len(tt) != 1 {
			t.Fatalf("want one target tracking policy for the fleet, found %d", len(tt))
		}
		cfg := tt[0].Props["TargetTrackingConfiguration"]
		if num(get(cfg, "TargetValue")) != fc.BacklogPerInstanceTarget {
			t.Errorf("target = %v, want %v", get(cfg, "TargetValue"), fc.BacklogPerInstanceTarget)
		}
		metrics := str(get(cfg, "CustomizedMetricSpecification.Metrics"))
		for _, want := range []string{"QueueDepth", "GroupInServiceInstances", names(b).FleetAsg(fc.Slug)} {
			if !strings.Contains(metrics, want) {
				t.Errorf("backlog metric math lacks %q: %s", want, metrics)
			}
		}
		var returned []string
		for _, m := range get(cfg, "CustomizedMetricSpecification.Metrics").([]any) {
			if get(m, "ReturnData") == true {
				returned = append(returned, str(get(m, "Expression")))
			}
		}
		// In-service 0 (instances still booting) must not divide by zero.
		if !slices.Equal(returned, []string{"queue / IF(inService > 0, inService, 1)"}) {
			t.Errorf("backlog expression = %q, want QueueDepth per in-service instance guarded against zero", returned)
		}
	})
}

// TestGpuFleetBlocker8ScaleToZeroIsStageScoped: the old scale-to-zero topic
// was shared by every stage, so one stage's empty queue could zero another's
// fleet. The topic, the alarms that notify it and the handler are per stage.
func TestGpuFleetBlocker8ScaleToZeroIsStageScoped(t *testing.T) {
	seen := map[string]string{}
	for _, b := range all() {
		tpl := b.templates[gpuFleetKind]
		n := names(b)
		topic := fleetResource(t, tpl, "AWS::SNS::Topic", "TopicName", n.ScaleToZeroTopic())
		if want := b.stage.Cfg.AppPrefix + "-" + b.stage.Cfg.Stage + "-scale-to-zero"; str(topic.Props["TopicName"]) != want {
			t.Errorf("%s: topic %s, want %s", b.label, str(topic.Props["TopicName"]), want)
		}
		if topic.Props["KmsMasterKeyId"] == nil {
			t.Errorf("%s: scale-to-zero topic is not encrypted", b.label)
		}
		if prev, ok := seen[b.stage.Cfg.Stage]; ok && prev != str(topic.Props["TopicName"]) {
			t.Errorf("stage %s has two topic names", b.stage.Cfg.Stage)
		}
		seen[b.stage.Cfg.Stage] = str(topic.Props["TopicName"])
		for _, fc := range b.stage.Cfg.Fleets {
			alarm := fleetResource(t, tpl, "AWS::CloudWatch::Alarm", "AlarmName", n.Alarm(fc.Slug+"-queue-empty")).Props
			if !strings.Contains(str(alarm["AlarmName"]), "-"+b.stage.Cfg.Stage+"-") {
				t.Errorf("%s: alarm name %s lacks the stage", b.label, str(alarm["AlarmName"]))
			}
			if !equalJSON(alarm["AlarmActions"], []any{map[string]any{"Ref": topic.LogicalID}}) {
				t.Errorf("%s: queue-empty alarm notifies %s, want only this stage's topic %s", b.label, str(alarm["AlarmActions"]), topic.LogicalID)
			}
			if str(alarm["Namespace"]) != bootcontract.MetricsNamespace || str(alarm["MetricName"]) != "QueueDepth" ||
				!strings.Contains(str(alarm["Dimensions"]), `"Value":"`+b.stage.Cfg.Stage+`"`) ||
				num(alarm["EvaluationPeriods"]) != float64(fc.ScaleToZeroMinutes) || num(alarm["Period"]) != 60 ||
				str(alarm["ComparisonOperator"]) != "LessThanOrEqualToThreshold" || num(alarm["Threshold"]) != 0 {
				t.Errorf("%s: queue-empty alarm = %s, want QueueDepth{Stage=%s} <= 0 for %d one-minute periods", b.label, str(alarm), b.stage.Cfg.Stage, fc.ScaleToZeroMinutes)
			}
		}
		fn := fleetResource(t, tpl, "AWS::Lambda::Function", "FunctionName", n.Function("scale-to-zero"))
		env := get(fn.Props, "Environment.Variables").(map[string]any)
		if env["STAGE"] != b.stage.Cfg.Stage {
			t.Errorf("%s: handler STAGE = %v", b.label, env["STAGE"])
		}
		var asgs map[string]string
		if err := json.Unmarshal([]byte(str(env["FLEET_ASGS"])), &asgs); err != nil || len(asgs) != len(b.stage.Cfg.Fleets) {
			t.Errorf("%s: FLEET_ASGS = %v (%v), want this stage's %d fleets", b.label, env["FLEET_ASGS"], err, len(b.stage.Cfg.Fleets))
		}
		for slug, asg := range asgs {
			if asg != n.FleetAsg(slug) || !strings.HasPrefix(asg, n.Prefix()+"-") {
				t.Errorf("%s: FLEET_ASGS[%s] = %s, want %s", b.label, slug, asg, n.FleetAsg(slug))
			}
		}
		subs := tpl.Where("AWS::SNS::Subscription", "Protocol", "lambda")
		if len(subs) != 1 || !refTo(subs[0].Props["TopicArn"], topic.LogicalID) || !refTo(subs[0].Props["Endpoint"], fn.LogicalID) {
			t.Errorf("%s: the handler must be the one subscriber of the stage topic: %v", b.label, subs)
		}
		set := statementFor(statements(tpl, "ScaleToZeroFunctionRole"), "autoscaling:SetDesiredCapacity")
		if len(set) != 1 || str(get(set[0], "Condition.StringEquals.autoscaling:ResourceTag/Stage")) != b.stage.Cfg.Stage {
			t.Errorf("%s: SetDesiredCapacity must be limited to ASGs tagged Stage=%s: %s", b.label, b.stage.Cfg.Stage, str(set))
		}
	}
	if seen["staging"] == seen["production"] || seen["staging"] == "" {
		t.Errorf("staging and production share the scale-to-zero topic %q", seen["staging"])
	}
}

// bannedInUserData: interpreters and package managers (the old user data ran
// python3 outside the venv), ComfyUI's own paths, and any way of putting the
// fleet secret's value into the user data.
var bannedInUserData = regexp.MustCompile(`\b(python[0-9.]*|pip[0-9.]*|venv|activate|apt(-get)?|curl|wget|aws)\b|` +
	regexp.QuoteMeta(bootcontract.ComfyUIHome) + `|SecretString|resolve:secretsmanager|get-secret-value`)

// TestGpuFleetUserDataBlocker7 decodes the launch template's user data: it
// writes the worker's env file from bootcontract and starts the AMI's units;
// the old one ran python3 outside the venv.
func TestGpuFleetUserDataBlocker7(t *testing.T) {
	eachFleet(t, func(t *testing.T, b *built, tpl Template, fc config.Fleet) {
		script := fleetUserData(t, tpl, fleetLaunchTemplate(t, b, tpl, fc))
		// The AMI's CloudWatch agent ctl is the one command allowed under /opt/aws.
		if m := bannedInUserData.FindString(strings.ReplaceAll(script, bootcontract.CloudWatchAgentCtl+" ", "")); m != "" {
			t.Errorf("user data contains %q; the AMI's units run everything, the worker fetches the secret:\n%s", m, script)
		}
		keys, vals := envFileLines(t, script)
		if !slices.Equal(keys, bootcontract.EnvKeys()) {
			t.Errorf("env file keys = %v, want bootcontract.EnvKeys() %v", keys, bootcontract.EnvKeys())
		}
		cfg := b.stage.Cfg
		want := map[string]string{
			bootcontract.EnvAPIBaseURL: cfg.APIBaseURL(), bootcontract.EnvStage: cfg.Stage, bootcontract.EnvFleetSlug: fc.Slug,
			bootcontract.EnvASGName: names(b).FleetAsg(fc.Slug), bootcontract.EnvRegion: cfg.Region,
			bootcontract.EnvActiveBundleParam: names(b).ActiveBundleParameter(fc.Slug), bootcontract.EnvMetricsEnabled: "true",
		}
		for k, v := range want {
			if vals[k] != v {
				t.Errorf("%s = %q, want %q", k, vals[k], v)
			}
		}
		if !strings.Contains(vals[bootcontract.EnvFleetSecretARN], "FleetSecret") || !strings.Contains(vals[bootcontract.EnvModelsBucket], "ModelsBucket") {
			t.Errorf("secret ARN / models bucket are not the Data stack's: %q, %q", vals[bootcontract.EnvFleetSecretARN], vals[bootcontract.EnvModelsBucket])
		}
		if !slices.Contains([]string{"debug", "info", "warn", "error"}, vals[bootcontract.EnvLogLevel]) {
			t.Errorf("%s = %q is not a level the worker accepts", bootcontract.EnvLogLevel, vals[bootcontract.EnvLogLevel])
		}
		for _, line := range []string{
			"install -m 0640 -o root -g " + bootcontract.WorkerUser + " /dev/null " + bootcontract.EnvFile + ".tmp",
			"mv -f " + bootcontract.EnvFile + ".tmp " + bootcontract.EnvFile,
			"systemctl daemon-reload\nsystemctl enable --now --no-block " + strings.Join(bootcontract.Units(), " ") + "\n",
		} {
			if !strings.Contains(script, line) {
				t.Errorf("user data lacks %q:\n%s", line, script)
			}
		}
		if !strings.HasPrefix(script, "#!/bin/bash\nset -euo pipefail\n") {
			t.Errorf("user data must start strict: %q", script[:min(len(script), 40)])
		}
	})
}

// agentConfigOf parses the JSON heredoc that writes the CloudWatch agent config.
func agentConfigOf(t *testing.T, script string) map[string]any {
	t.Helper()
	open := "cat > " + bootcontract.CloudWatchAgentConfig + " <<'CLOUDWATCH_AGENT'\n"
	start := strings.Index(script, open)
	end := strings.Index(script, "\nCLOUDWATCH_AGENT\n")
	if start < 0 || end < start {
		t.Fatalf("user data does not write %s with a quoted CLOUDWATCH_AGENT heredoc:\n%s", bootcontract.CloudWatchAgentConfig, script)
	}
	var cfg map[string]any
	if err := json.Unmarshal([]byte(script[start+len(open):end]), &cfg); err != nil {
		t.Fatalf("agent config is not JSON: %v", err)
	}
	return cfg
}

// TestGpuFleetUserDataShipsLogsToTheFleetLogGroup: the user data configures
// the AMI's CloudWatch agent to ship the units' log files (bootcontract) to the
// fleet's log group, the very group the worker role may write to, one stream
// per instance and file, and starts it after the units.
func TestGpuFleetUserDataShipsLogsToTheFleetLogGroup(t *testing.T) {
	eachFleet(t, func(t *testing.T, b *built, tpl Template, fc config.Fleet) {
		lt := fleetLaunchTemplate(t, b, tpl, fc)
		script := fleetUserData(t, tpl, lt)
		group := fleetResource(t, tpl, "AWS::Logs::LogGroup", "LogGroupName", names(b).LogGroup("gpu/"+fc.Slug))
		prefix := strings.TrimSuffix(lt.LogicalID, lt.LogicalID[strings.Index(lt.LogicalID, "LaunchTemplate"):]) + "WorkerRole"
		puts := statementFor(statements(tpl, prefix), "logs:PutLogEvents")
		if len(puts) != 1 || !refTo(puts[0]["Resource"], group.LogicalID) || !slices.Contains(actionsOf(puts[0]), "logs:CreateLogStream") {
			t.Fatalf("the worker role may not create streams and put events in %s: %v", group.LogicalID, puts)
		}

		cfg := agentConfigOf(t, script)
		if len(cfg) != 1 || cfg["logs"] == nil {
			t.Errorf("agent config has sections %v, want logs only (no metrics: no extra IAM)", slices.Sorted(maps.Keys(cfg)))
		}
		list, _ := get(cfg, "logs.logs_collected.files.collect_list").([]any)
		want := map[string]string{
			bootcontract.WorkerLogFile:  "{instance_id}/worker",
			bootcontract.ComfyUILogFile: "{instance_id}/comfyui",
		}
		if len(list) != len(want) {
			t.Fatalf("collect_list has %d files, want %d: %v", len(list), len(want), list)
		}
		for _, e := range list {
			m, _ := e.(map[string]any)
			file := str(m["file_path"])
			stream, ok := want[file]
			if !ok {
				t.Errorf("agent collects %s, not a bootcontract log file", file)
				continue
			}
			delete(want, file)
			if str(m["log_group_name"]) != str(group.Props["LogGroupName"]) {
				t.Errorf("%s goes to %s, want the fleet's log group %s", file, str(m["log_group_name"]), str(group.Props["LogGroupName"]))
			}
			if str(m["log_stream_name"]) != stream || str(m["timezone"]) != "UTC" {
				t.Errorf("%s: stream %s timezone %s, want %s and UTC", file, str(m["log_stream_name"]), str(m["timezone"]), stream)
			}
		}

		// The agent starts before the units so a failing unit's logs are
		// shipped, and its failure only warns so logging never blocks the worker.
		start := bootcontract.CloudWatchAgentCtl + " -a fetch-config -m ec2 -s -c file:" + bootcontract.CloudWatchAgentConfig + " || echo "
		agentAt, unitsAt := strings.Index(script, start), strings.Index(script, "enable --now --no-block")
		if agentAt < 0 || unitsAt < 0 || agentAt > unitsAt {
			t.Errorf("user data must start the agent (tolerating its failure) before queueing the units:\n%s", script)
		}
	})
}

// TestGpuFleetBootContractMatchesPacker: the units the user data starts are
// the ones packer/ installs, and they read the env file the user data writes.
func TestGpuFleetBootContractMatchesPacker(t *testing.T) {
	dir := filepath.Join("..", "packer", "units")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("read packer units: %v", err)
	}
	var installed []string
	for _, e := range entries {
		installed = append(installed, e.Name())
	}
	want := slices.Clone(bootcontract.Units())
	slices.Sort(want)
	if !slices.Equal(installed, want) {
		t.Fatalf("packer/units = %v, bootcontract.Units() = %v", installed, want)
	}
	for _, u := range []string{bootcontract.BundleSyncUnit, bootcontract.WorkerUnit} {
		raw, err := os.ReadFile(filepath.Join(dir, u))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(raw), "EnvironmentFile="+bootcontract.EnvFile+"\n") || !strings.Contains(string(raw), "ExecStart="+bootcontract.WorkerBinary+" ") {
			t.Errorf("%s does not read %s and run %s", u, bootcontract.EnvFile, bootcontract.WorkerBinary)
		}
	}
	eachFleet(t, func(t *testing.T, b *built, tpl Template, fc config.Fleet) {
		script := fleetUserData(t, tpl, fleetLaunchTemplate(t, b, tpl, fc))
		if !strings.Contains(script, "cat > "+bootcontract.EnvFile+".tmp") || !strings.Contains(script, "enable --now --no-block "+strings.Join(bootcontract.Units(), " ")) {
			t.Errorf("user data does not write %s and start %v:\n%s", bootcontract.EnvFile, bootcontract.Units(), script)
		}
	})
}

func TestGpuFleetWorkerRoleLeastPrivilege(t *testing.T) {
	eachFleet(t, func(t *testing.T, b *built, tpl Template, fc config.Fleet) {
		lt := fleetLaunchTemplate(t, b, tpl, fc)
		prefix := strings.TrimSuffix(lt.LogicalID, lt.LogicalID[strings.Index(lt.LogicalID, "LaunchTemplate"):]) + "WorkerRole"
		for _, r := range tpl.Resources("AWS::IAM::Role") {
			if strings.HasPrefix(r.LogicalID, prefix) && r.Props["ManagedPolicyArns"] != nil {
				t.Errorf("worker role has managed policies: %s", str(r.Props["ManagedPolicyArns"]))
			}
		}
		stmts := statements(tpl, prefix)
		if len(stmts) == 0 {
			t.Fatalf("no policy for role %s*", prefix)
		}
		for _, s := range stmts {
			for _, a := range actionsOf(s) {
				if strings.HasSuffix(a, "*") {
					t.Errorf("wildcard action %s", a)
				}
			}
			if s["Effect"] != "Allow" {
				t.Errorf("unexpected statement %s", str(s))
			}
		}
		one := func(action string) map[string]any {
			ss := statementFor(stmts, action)
			if len(ss) != 1 {
				t.Fatalf("%s granted by %d statements, want 1", action, len(ss))
			}
			return ss[0]
		}
		if r := str(one("secretsmanager:GetSecretValue")["Resource"]); !strings.Contains(r, "FleetSecret") {
			t.Errorf("GetSecretValue on %s, want only the fleet secret", r)
		}
		if r := str(one("ssm:GetParameter")["Resource"]); !strings.Contains(r, "parameter"+names(b).ActiveBundleParameter(fc.Slug)) {
			t.Errorf("GetParameter on %s, want only %s", r, names(b).ActiveBundleParameter(fc.Slug))
		}
		if r := str(one("s3:GetObject")["Resource"]); !strings.Contains(r, "/assets/*") || !strings.Contains(r, "/bundles/*") || strings.Count(r, "ModelsBucket") != 2 {
			t.Errorf("GetObject on %s, want models bucket assets/* and bundles/*", r)
		}
		// QueueDepth in ComfyUI/Workers (the backend's namespace, system
		// contract) drives the scaling: a GPU box must not be able to write it,
		// nor another stage's worker metrics.
		if c := str(get(one("cloudwatch:PutMetricData"), "Condition.StringEquals.cloudwatch:namespace")); c == "ComfyUI/Workers" ||
			c != b.stage.Cfg.AppPrefix+"/"+b.stage.Cfg.Stage+"/gpu-worker" {
			t.Errorf("PutMetricData namespace condition = %s, want only the stage's own %s/%s/gpu-worker", c, b.stage.Cfg.AppPrefix, b.stage.Cfg.Stage)
		}
		prot := one("autoscaling:SetInstanceProtection")
		if str(get(prot, "Condition.StringEquals.autoscaling:ResourceTag/Stage")) != b.stage.Cfg.Stage ||
			!equalJSON(get(prot, "Condition.StringEquals.autoscaling:ResourceTag/FleetSlug"), []any{fc.Slug}) {
			t.Errorf("SetInstanceProtection must be limited to this fleet's ASG: %s", str(prot))
		}
		logs := fleetResource(t, tpl, "AWS::Logs::LogGroup", "LogGroupName", names(b).LogGroup("gpu/"+fc.Slug))
		if num(logs.Props["RetentionInDays"]) != float64(b.stage.Cfg.LogRetentionDays) {
			t.Errorf("worker log group retention = %v, want %d", logs.Props["RetentionInDays"], b.stage.Cfg.LogRetentionDays)
		}
		if r := str(one("logs:PutLogEvents")["Resource"]); !strings.Contains(r, logs.LogicalID) {
			t.Errorf("PutLogEvents on %s, want only %s", r, logs.LogicalID)
		}
	})
}

func TestGpuFleetReaperAndProtectionRelease(t *testing.T) {
	for _, b := range all() {
		tpl := b.templates[gpuFleetKind]
		n := names(b)
		reaper := fleetResource(t, tpl, "AWS::Lambda::Function", "FunctionName", n.Function("fleet-reaper"))
		env := get(reaper.Props, "Environment.Variables").(map[string]any)
		if env["STAGE"] != b.stage.Cfg.Stage || !refTo(env["ALERT_TOPIC_ARN"], "Alerts") || num(env["IDLE_LIMIT_MINUTES"]) < float64(b.stage.Cfg.Fleets[0].ProtectedIdleLimitMinutes) {
			t.Errorf("%s: reaper env = %s", b.label, str(env))
		}
		rules := tpl.Where("AWS::Events::Rule", "ScheduleExpression", "rate(5 minutes)")
		if len(rules) != 1 || !refTo(get(rules[0].Props, "Targets.0.Arn"), reaper.LogicalID) {
			t.Errorf("%s: no 5-minute schedule targets the reaper", b.label)
		}
		stmts := statements(tpl, "ReaperFunctionRole")
		if pub := statementFor(stmts, "sns:Publish"); len(pub) != 1 || !refTo(pub[0]["Resource"], "Alerts") {
			t.Errorf("%s: reaper cannot publish to the alerts topic: %s", b.label, str(pub))
		}
		if kms := statementFor(stmts, "kms:GenerateDataKey*"); len(kms) != 1 {
			t.Errorf("%s: reaper cannot use the alerts topic's key: %s", b.label, str(stmts))
		}
		cr := b.templates[gpuFleetKind].One(t, "Custom::FleetProtectionRelease")
		deps := str(cr.Raw["DependsOn"])
		var want []any
		for _, fc := range b.stage.Cfg.Fleets {
			asg := fleetAsg(t, b, tpl, fc)
			if !strings.Contains(deps, asg.LogicalID) {
				t.Errorf("%s: protection release does not depend on %s, so it would not run before the ASG's deletion", b.label, asg.LogicalID)
			}
			want = append(want, n.FleetAsg(fc.Slug))
		}
		if !equalJSON(cr.Props["AsgNames"], want) {
			t.Errorf("%s: AsgNames = %s, want %v", b.label, str(cr.Props["AsgNames"]), want)
		}
	}
}

func TestGpuFleetLambdasLogWithStageRetention(t *testing.T) {
	for _, b := range all() {
		tpl := b.templates[gpuFleetKind]
		fns := tpl.Resources("AWS::Lambda::Function")
		if len(fns) < 3 {
			t.Errorf("%s: %d functions, want scale-to-zero, reaper and protection release", b.label, len(fns))
		}
		for _, fn := range fns {
			group := get(fn.Props, "LoggingConfig.LogGroup")
			ok := false
			for _, lg := range tpl.Resources("AWS::Logs::LogGroup") {
				if refTo(group, lg.LogicalID) && num(lg.Props["RetentionInDays"]) == float64(b.stage.Cfg.LogRetentionDays) {
					ok = true
				}
			}
			if !ok {
				t.Errorf("%s: function %s logs to %s, not a log group with %d days", b.label, fn.LogicalID, str(group), b.stage.Cfg.LogRetentionDays)
			}
		}
	}
}

func TestGpuFleetNightlyScaleToZero(t *testing.T) {
	for _, b := range all() {
		actions := b.templates[gpuFleetKind].Where("AWS::AutoScaling::ScheduledAction", "Recurrence", b.stage.Cfg.FleetSchedule.Cron)
		want := 0
		if b.stage.Cfg.FleetSchedule.NightlyScaleToZero {
			want = len(b.stage.Cfg.Fleets)
		}
		if len(actions) != want {
			t.Errorf("%s: %d scheduled actions, want %d", b.label, len(actions), want)
		}
		for _, a := range actions {
			if num(a.Props["DesiredCapacity"]) != 0 || str(a.Props["Recurrence"]) != b.stage.Cfg.FleetSchedule.Cron || str(a.Props["TimeZone"]) != "UTC" {
				t.Errorf("%s: scheduled action = %s", b.label, str(a.Props))
			}
		}
	}
	if stages["production"].stage.Cfg.FleetSchedule.NightlyScaleToZero {
		t.Error("production must not scale to zero on a schedule")
	}
}

// TestAutoScalingWritesAreScopedToTheFleetGroups: every Auto Scaling write
// of the stack (worker role, scale-to-zero, reaper, protection release) names
// the fleets' groups by ARN. Service Authorization Reference, Amazon EC2 Auto
// Scaling: autoScalingGroup resource
// arn:${Partition}:autoscaling:${Region}:${Account}:autoScalingGroup:${GroupId}:autoScalingGroupName/${GroupFriendlyName};
// only the random group id may be a wildcard. Describe* calls support no
// resource scoping.
func TestAutoScalingWritesAreScopedToTheFleetGroups(t *testing.T) {
	for _, b := range all() {
		cfg := b.stage.Cfg
		allowed := map[string]bool{}
		for _, f := range cfg.Fleets {
			allowed[fmt.Sprintf("arn:aws:autoscaling:%s:%s:autoScalingGroup:*:autoScalingGroupName/%s-%s-%s", cfg.Region, cfg.Account, cfg.AppPrefix, cfg.Stage, f.Slug)] = true
		}
		writes := 0
		for _, pol := range b.templates[gpuFleetKind].Resources("AWS::IAM::Policy") {
			list, _ := get(pol.Props, "PolicyDocument.Statement").([]any)
			for _, s := range list {
				st, _ := s.(map[string]any)
				for _, a := range actionsOf(st) {
					if !strings.HasPrefix(a, "autoscaling:") || strings.HasPrefix(a, "autoscaling:Describe") {
						continue
					}
					writes++
					resources, ok := st["Resource"].([]any)
					if !ok {
						resources = []any{st["Resource"]}
					}
					for _, r := range resources {
						arn := strings.ReplaceAll(renderJoin(r), `${{"Ref":"AWS::Partition"}}`, "aws")
						if !allowed[arn] {
							t.Errorf("%s: %s grants %s on %s, want only the fleet groups %v", b.label, pol.LogicalID, a, arn, allowed)
						}
					}
				}
			}
		}
		if writes < 4 {
			t.Errorf("%s: found %d Auto Scaling write grants, want the worker's and three Lambdas'", b.label, writes)
		}
	}
}
