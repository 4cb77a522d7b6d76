package test

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/bp/infra/config"
	"github.com/bp/infra/internal/coldstart"
)

const (
	pinnedAMI   = "ami-0123456789abcdef0"
	warmStart   = "0 7 * * 1-5"
	warmEnd     = "0 19 * * 1-5"
	fallbackTag = "bp:on-demand-fallback"
)

// switchedOnVariant is the staging build with every switch that is off by
// default on, the capacity features among them (variantOverrides).
func switchedOnVariant(t *testing.T) *built {
	t.Helper()
	b, ok := variants["switched-on"]
	if !ok {
		t.Fatal("no switched-on variant in variantOverrides")
	}
	return b
}

func function(tpl Template, name string) (Resource, bool) {
	rs := tpl.Where("AWS::Lambda::Function", "FunctionName", name)
	if len(rs) != 1 {
		return Resource{}, false
	}
	return rs[0], true
}

// asgARN is a real group ARN: the id part is what the policies' * stands for.
func asgARN(account, name string) string {
	return "arn:aws:autoscaling:us-east-1:" + account + ":autoScalingGroup:0b3c7a5e-1111-4222-8333-944445555666:autoScalingGroupName/" + name
}

// identityAllows evaluates a role's identity-policy statements for one
// request (IAM User Guide, policy evaluation: an Allow must match action,
// resource and every condition; nothing here denies). Resource patterns use
// IAM's wildcards, where * also matches ":" and "/".
func identityAllows(stmts []map[string]any, account, action, resource string, ctx map[string][]string) bool {
	for _, raw := range stmts {
		s, _ := resolvePolicy(map[string]any(raw), account).(map[string]any)
		if s["Effect"] != "Allow" || !actionMatches(s["Action"], action) {
			continue
		}
		ok := false
		for _, r := range listOfStrings(s["Resource"]) {
			re := "^" + strings.ReplaceAll(regexp.QuoteMeta(r), `\*`, ".*") + "$"
			ok = ok || regexp.MustCompile(re).MatchString(resource)
		}
		if ok && identityConditions(s["Condition"], ctx) {
			return true
		}
	}
	return false
}

func identityConditions(c any, ctx map[string][]string) bool {
	ops, _ := c.(map[string]any)
	for op, kv := range ops {
		for key, want := range kv.(map[string]any) {
			got, present := ctx[key]
			wants := listOfStrings(want)
			switch op {
			case "StringEquals":
				if !present || len(got) != 1 || !slices.Contains(wants, got[0]) {
					return false
				}
			case "ForAllValues:StringEquals":
				for _, g := range got {
					if !slices.Contains(wants, g) {
						return false
					}
				}
			default:
				return false
			}
		}
	}
	return true
}

func stageTag(stage string) map[string][]string {
	return map[string][]string{"autoscaling:ResourceTag/Stage": {stage}}
}

// TestSpotFallbackFunction: only a stage with a fallback fleet runs the
// function, every minute, with that fleet's bound; it may change the
// On-Demand base and its own tag of that fleet's group only, and publish to
// the alerts topic.
func TestSpotFallbackFunction(t *testing.T) {
	for _, b := range all() {
		_, built := function(b.templates[gpuFleetKind], names(b).Function("spot-fallback"))
		if want := slices.ContainsFunc(b.stage.Cfg.Fleets, func(f config.Fleet) bool { return f.OnDemandFallback.Enabled }); built != want {
			t.Errorf("%s: spot-fallback function built = %v, want %v (a fleet with onDemandFallback.enabled)", b.label, built, want)
		}
	}
	b := switchedOnVariant(t)
	tpl := b.templates[gpuFleetKind]
	fn, ok := function(tpl, "bp-staging-spot-fallback")
	if !ok {
		t.Fatal("no bp-staging-spot-fallback function")
	}
	env := get(fn.Props, "Environment.Variables").(map[string]any)
	if env["STAGE"] != "staging" || env["STATE_TAG"] != fallbackTag || !refTo(env["ALERT_TOPIC_ARN"], "Alerts") || env["METRIC_NAMESPACE"] != "ComfyUI/Workers" {
		t.Errorf("env = %s", str(env))
	}
	var fleets []map[string]any
	if err := json.Unmarshal([]byte(str(env["FLEETS"])), &fleets); err != nil || len(fleets) != 1 {
		t.Fatalf("FLEETS = %v (%v), want the one fallback fleet", env["FLEETS"], err)
	}
	asg := fleetResource(t, tpl, "AWS::AutoScaling::AutoScalingGroup", "AutoScalingGroupName", "bp-staging-gpu-default")
	want := map[string]any{"slug": "gpu-default", "asgName": "bp-staging-gpu-default", "maxInstances": 2.0, "afterMinutes": 5.0,
		"scaleToZeroMinutes": 15.0, "baseCapacity": num(get(asg.Props, "MixedInstancesPolicy.InstancesDistribution.OnDemandBaseCapacity"))}
	if !equalJSON(fleets[0], want) {
		t.Errorf("FLEETS[0] = %v, want %v (baseCapacity is the template's OnDemandBaseCapacity)", fleets[0], want)
	}
	if timeout := num(fn.Props["Timeout"]); timeout <= 0 || timeout >= 60 {
		t.Errorf("timeout %v s: runs every minute, so it must end within one", timeout)
	}
	rules := tpl.Where("AWS::Events::Rule", "ScheduleExpression", "rate(1 minute)")
	if len(rules) != 1 || !refTo(get(rules[0].Props, "Targets.0.Arn"), fn.LogicalID) {
		t.Errorf("no 1-minute schedule targets %s", fn.LogicalID)
	}

	stmts, account := statements(tpl, "SpotFallbackFunctionRole"), b.stage.Cfg.Account
	own, prod, pinned := asgARN(account, "bp-staging-gpu-default"), asgARN(account, "bp-production-gpu-default"), asgARN(account, "bp-staging-gpu-pinned")
	tagCtx := stageTag("staging")
	tagCtx["aws:TagKeys"] = []string{fallbackTag}
	for _, c := range []struct {
		action, resource string
		ctx              map[string][]string
		want             bool
	}{
		{"autoscaling:UpdateAutoScalingGroup", own, stageTag("staging"), true},
		{"autoscaling:UpdateAutoScalingGroup", prod, stageTag("production"), false},
		{"autoscaling:UpdateAutoScalingGroup", pinned, stageTag("staging"), false},
		{"autoscaling:UpdateAutoScalingGroup", own, stageTag("production"), false},
		{"autoscaling:CreateOrUpdateTags", own, tagCtx, true},
		{"autoscaling:CreateOrUpdateTags", own, map[string][]string{"autoscaling:ResourceTag/Stage": {"staging"}, "aws:TagKeys": {fallbackTag, "Stage"}}, false},
		{"autoscaling:DescribeScalingActivities", "*", nil, true},
		{"cloudwatch:GetMetricData", "*", nil, true},
		{"ec2:DescribeInstances", "*", nil, true},
		{"autoscaling:SetDesiredCapacity", own, stageTag("staging"), false},
		{"autoscaling:TerminateInstanceInAutoScalingGroup", own, stageTag("staging"), false},
		{"autoscaling:SetInstanceProtection", own, stageTag("staging"), false},
		{"ec2:TerminateInstances", "*", nil, false},
	} {
		if got := identityAllows(stmts, account, c.action, c.resource, c.ctx); got != c.want {
			t.Errorf("%s on %s %v: allowed = %v, want %v", c.action, c.resource, c.ctx, got, c.want)
		}
	}
	if pub := statementFor(stmts, "sns:Publish"); len(pub) != 1 || !refTo(pub[0]["Resource"], "Alerts") {
		t.Errorf("cannot publish to the alerts topic: %s", str(pub))
	}
}

// matchesPattern is EventBridge's matching for the patterns used here: each
// key of the pattern must be in the event, a list matches when the event's
// value is one of it, an object matches the event's object recursively
// (EventBridge User Guide, event patterns).
func matchesPattern(pattern, event map[string]any) bool {
	for k, want := range pattern {
		got, ok := event[k]
		if !ok {
			return false
		}
		switch w := want.(type) {
		case map[string]any:
			g, ok := got.(map[string]any)
			if !ok || !matchesPattern(w, g) {
				return false
			}
		case []any:
			if !slices.ContainsFunc(w, func(x any) bool { return equalJSON(x, got) }) {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// parameterEvent is the Systems Manager User Guide's example "Parameter Store
// Change" event with another name and operation.
func parameterEvent(name, operation string) map[string]any {
	var ev map[string]any
	_ = json.Unmarshal([]byte(`{"version": "0", "id": "9547ef2d-3b7e-4057-b6cb-5fdf09ee7c8f", "detail-type": "Parameter Store Change",
  "source": "aws.ssm", "account": "111111111111", "time": "2017-05-22T16:44:48Z", "region": "us-east-1",
  "resources": ["arn:aws:ssm:us-east-1:111111111111:parameter`+name+`"],
  "detail": {"operation": "`+operation+`", "name": "`+name+`", "type": "String", "description": "Sample Parameter"}}`), &ev)
	return ev
}

// TestAmiRefreshOnParameterChange: the AMI parameters' change events of the
// stage's parameter fleets, and a schedule, start lambdas/amirefresh, which
// may start an instance refresh of those groups and read those parameters,
// nothing else.
func TestAmiRefreshOnParameterChange(t *testing.T) {
	for _, b := range all() {
		t.Run(b.label, func(t *testing.T) {
			tpl, n, stage := b.templates[gpuFleetKind], names(b), b.stage.Cfg.Stage
			fn, ok := function(tpl, n.Function("ami-refresh"))
			if !ok {
				t.Fatal("no ami-refresh function")
			}
			var fleets []map[string]string
			_ = json.Unmarshal([]byte(str(get(fn.Props, "Environment.Variables.FLEETS"))), &fleets)
			var params []any
			var wantFleets []map[string]string
			for _, fc := range b.stage.Cfg.Fleets {
				if fc.AmiID == "" {
					params = append(params, fc.AmiParameter)
					wantFleets = append(wantFleets, map[string]string{"slug": fc.Slug, "asgName": n.FleetAsg(fc.Slug), "amiParameter": fc.AmiParameter})
				}
			}
			if !equalJSON(fleets, wantFleets) {
				t.Errorf("FLEETS = %v, want the parameter fleets %v", fleets, wantFleets)
			}
			var rule Resource
			for _, r := range tpl.Resources("AWS::Events::Rule") {
				if get(r.Props, "EventPattern") != nil && refTo(get(r.Props, "Targets.0.Arn"), fn.LogicalID) {
					rule = r
				}
			}
			pattern, _ := get(rule.Props, "EventPattern").(map[string]any)
			if pattern == nil {
				t.Fatal("no event rule targets the function")
			}
			if !equalJSON(get(pattern, "detail.name"), params) {
				t.Errorf("rule names %s, want %v", str(get(pattern, "detail.name")), params)
			}
			own := params[0].(string)
			for _, c := range []struct {
				ev   map[string]any
				want bool
			}{
				{parameterEvent(own, "Update"), true},
				{parameterEvent(own, "Create"), true},
				{parameterEvent(own, "Delete"), false},
				{parameterEvent(own, "LabelParameterVersion"), false},
				{parameterEvent(strings.Replace(own, "/"+stage+"/", "/other/", 1), "Update"), false},
				{parameterEvent(n.ActiveBundleParameter("gpu-default"), "Update"), false},
			} {
				if got := matchesPattern(pattern, c.ev); got != c.want {
					t.Errorf("event %s %s: matches = %v, want %v", get(c.ev, "detail.operation"), get(c.ev, "detail.name"), got, c.want)
				}
			}
			sched := tpl.Where("AWS::Events::Rule", "ScheduleExpression", "rate(15 minutes)")
			if len(sched) != 1 || !refTo(get(sched[0].Props, "Targets.0.Arn"), fn.LogicalID) {
				t.Error("no 15-minute schedule targets the function")
			}
			perms := 0
			for _, p := range tpl.Resources("AWS::Lambda::Permission") {
				if refTo(p.Props["FunctionName"], fn.LogicalID) && p.Props["Principal"] == "events.amazonaws.com" {
					perms++
				}
			}
			if perms != 2 {
				t.Errorf("%d EventBridge invoke permissions, want one per rule", perms)
			}

			stmts, account := statements(tpl, "AmiRefreshFunctionRole"), b.stage.Cfg.Account
			ownASG := asgARN(account, n.FleetAsg("gpu-default"))
			param := "arn:aws:ssm:us-east-1:" + account + ":parameter" + own
			for _, c := range []struct {
				action, resource string
				ctx              map[string][]string
				want             bool
			}{
				{"autoscaling:StartInstanceRefresh", ownASG, stageTag(stage), true},
				{"autoscaling:StartInstanceRefresh", asgARN(account, "bp-other-gpu-default"), stageTag("other"), false},
				{"autoscaling:StartInstanceRefresh", asgARN(account, "bp-staging-gpu-pinned"), stageTag(stage), false},
				{"ssm:GetParameter", param, nil, true},
				{"ssm:GetParameter", "arn:aws:ssm:us-east-1:" + account + ":parameter" + n.ActiveBundleParameter("gpu-default"), nil, false},
				{"ssm:GetParameter", "arn:aws:ssm:us-east-1:" + account + ":parameter/bp/ami/fleets/other/gpu-default", nil, false},
				{"ec2:DescribeInstances", "*", nil, true},
				{"autoscaling:DescribeInstanceRefreshes", "*", nil, true},
				{"autoscaling:SetInstanceProtection", ownASG, stageTag(stage), false},
				{"autoscaling:TerminateInstanceInAutoScalingGroup", ownASG, stageTag(stage), false},
				{"autoscaling:UpdateAutoScalingGroup", ownASG, stageTag(stage), false},
				{"autoscaling:SetDesiredCapacity", ownASG, stageTag(stage), false},
			} {
				if got := identityAllows(stmts, account, c.action, c.resource, c.ctx); got != c.want {
					t.Errorf("%s on %s: allowed = %v, want %v", c.action, c.resource, got, c.want)
				}
			}
		})
	}
}

// TestWarmBufferSchedules: the buffer raises the minimum at its start and
// takes the minimum and the fleet to zero at its end, in UTC; the group keeps
// CloudFormation from resetting the minimum mid-buffer on a deploy.
func TestWarmBufferSchedules(t *testing.T) {
	for _, b := range all() {
		tpl := b.templates[gpuFleetKind]
		for _, fc := range b.stage.Cfg.Fleets {
			asg := fleetResource(t, tpl, "AWS::AutoScaling::AutoScalingGroup", "AutoScalingGroupName", names(b).FleetAsg(fc.Slug))
			for _, a := range tpl.Resources("AWS::AutoScaling::ScheduledAction") {
				if !refTo(a.Props["AutoScalingGroupName"], asg.LogicalID) {
					continue
				}
				if a.Props["MinSize"] != nil && !fc.WarmBuffer.Enabled {
					t.Errorf("%s/%s: a scheduled minimum without a warm buffer: %s", b.label, fc.Slug, str(a.Props))
				}
				// "This number [the desired capacity] must be greater than or
				// equal to the minimum size of the group" (UpdateAutoScalingGroup,
				// Amazon EC2 Auto Scaling API Reference): an action that sets the
				// desired capacity of a buffered fleet must lower the minimum too.
				if d := a.Props["DesiredCapacity"]; d != nil && fc.WarmBuffer.Enabled && (a.Props["MinSize"] == nil || num(a.Props["MinSize"]) > num(d)) {
					t.Errorf("%s/%s: desired %v while the buffer's minimum %d may hold: %s", b.label, fc.Slug, d, fc.WarmBuffer.MinInstances, str(a.Props))
				}
			}
		}
	}
	b := switchedOnVariant(t)
	tpl := b.templates[gpuFleetKind]
	asg := fleetResource(t, tpl, "AWS::AutoScaling::AutoScalingGroup", "AutoScalingGroupName", "bp-staging-gpu-default")
	var start, end []Resource
	for _, a := range tpl.Resources("AWS::AutoScaling::ScheduledAction") {
		if !refTo(a.Props["AutoScalingGroupName"], asg.LogicalID) {
			if a.Props["MinSize"] != nil {
				t.Errorf("the pinned fleet has no warm buffer, yet: %s", str(a.Props))
			}
			continue
		}
		switch str(a.Props["Recurrence"]) {
		case warmStart:
			start = append(start, a)
		case warmEnd:
			end = append(end, a)
		}
	}
	if len(start) != 1 || num(start[0].Props["MinSize"]) != 1 || start[0].Props["DesiredCapacity"] != nil || start[0].Props["TimeZone"] != "UTC" {
		t.Errorf("buffer start = %v, want MinSize 1 at %q UTC, desired left to the group", start, warmStart)
	}
	if len(end) != 1 || num(end[0].Props["MinSize"]) != 0 || end[0].Props["DesiredCapacity"] == nil || num(end[0].Props["DesiredCapacity"]) != 0 || end[0].Props["TimeZone"] != "UTC" {
		t.Errorf("buffer end = %v, want MinSize 0 and DesiredCapacity 0 at %q UTC", end, warmEnd)
	}
	if get(asg.Raw, "UpdatePolicy.AutoScalingScheduledAction.IgnoreUnmodifiedGroupSizeProperties") != true {
		t.Errorf("UpdatePolicy = %s: a deploy during the buffer would reset MinSize to the template's 0", str(asg.Raw["UpdatePolicy"]))
	}
	if num(asg.Props["MinSize"]) != 0 || asg.Props["DesiredCapacity"] != nil {
		t.Errorf("the template's size = %v..%v desired %v; the schedule, not the template, sets the buffer", asg.Props["MinSize"], asg.Props["MaxSize"], asg.Props["DesiredCapacity"])
	}
}

// TestRootVolumeInitializationRate: set on the fleet's root volume when
// configured, absent (EBS's default, no charge) otherwise.
func TestRootVolumeInitializationRate(t *testing.T) {
	check := func(b *built, slug string, want any) {
		lt := fleetResource(t, b.templates[gpuFleetKind], "AWS::EC2::LaunchTemplate", "LaunchTemplateName", names(b).FleetLaunchTemplate(slug))
		bdm, _ := get(lt.Props, "LaunchTemplateData.BlockDeviceMappings").([]any)
		if len(bdm) != 1 {
			t.Fatalf("%s/%s: %d block devices", b.label, slug, len(bdm))
		}
		if got := get(bdm[0], "Ebs.VolumeInitializationRate"); !equalJSON(got, want) {
			t.Errorf("%s/%s: VolumeInitializationRate = %v, want %v", b.label, slug, got, want)
		}
	}
	for _, b := range all() {
		for _, fc := range b.stage.Cfg.Fleets {
			var want any
			if fc.RootVolumeInitRateMiBps != 0 {
				want = float64(fc.RootVolumeInitRateMiBps)
			}
			check(b, fc.Slug, want)
		}
	}
	b := switchedOnVariant(t)
	check(b, "gpu-default", 300.0)
}

// TestQueueHasJobsAlarmIsAtTheFloor: the 0 -> 1 alarm reads 60-s periods with
// 1 of 1 datapoints, the least CloudWatch allows for metrics published once a
// minute, and its math is the expression the scale-from-zero model evaluates.
func TestQueueHasJobsAlarmIsAtTheFloor(t *testing.T) {
	for _, b := range all() {
		for _, fc := range b.stage.Cfg.Fleets {
			alarm := fleetResource(t, b.templates[gpuFleetKind], "AWS::CloudWatch::Alarm", "AlarmName", names(b).Alarm(fc.Slug+"-queue-has-jobs"))
			p := alarm.Props
			var expr []string
			for _, m := range p["Metrics"].([]any) {
				if e := get(m, "Expression"); e != nil {
					expr = append(expr, str(e))
				} else if num(get(m, "MetricStat.Period")) != 60 {
					t.Errorf("%s/%s: metric period %v, want 60", b.label, fc.Slug, get(m, "MetricStat.Period"))
				}
			}
			if !slices.Equal(expr, []string{coldstart.QueueHasJobsExpression}) {
				t.Errorf("%s/%s: expression %q, want the model's %q", b.label, fc.Slug, expr, coldstart.QueueHasJobsExpression)
			}
			if num(p["EvaluationPeriods"]) != 1 || (p["DatapointsToAlarm"] != nil && num(p["DatapointsToAlarm"]) != 1) || num(p["Threshold"]) != 1 {
				t.Errorf("%s/%s: %v of %v datapoints, threshold %v; want 1 of 1, threshold 1", b.label, fc.Slug, p["DatapointsToAlarm"], p["EvaluationPeriods"], p["Threshold"])
			}
		}
	}
}

// TestSwitchedOnVariantIsNagClean: the variant's templates pass cdk-nag too
// (the suppressions name its dynamic ASG ARNs).
func TestSwitchedOnVariantIsNagClean(t *testing.T) {
	b := switchedOnVariant(t)
	for kind, st := range b.stacks {
		if len(st.nag) > 0 {
			t.Errorf("%s/%s: %s", b.label, kind, strings.Join(st.nag, "\n  "))
		}
	}
	if _, ok := function(b.templates[gpuFleetKind], "bp-staging-spot-fallback"); !ok {
		t.Fatal(fmt.Sprint("variant has no fallback function"))
	}
}

// TestFleetFunctionsAreWatched: every Lambda of the GpuFleet stack (the
// scale-to-zero path and the capacity functions a stage builds) has an alarm
// on its own Errors metric (AWS/Lambda, dimension FunctionName: "Lambda
// function metrics", Lambda Developer Guide) that pages the alerts topic on
// the first error.
func TestFleetFunctionsAreWatched(t *testing.T) {
	for _, b := range all() {
		tpl := b.templates[gpuFleetKind]
		fns := tpl.Resources("AWS::Lambda::Function")
		if len(fns) < 3 {
			t.Fatalf("%s: %d fleet functions, want scale-to-zero, reaper and protection release at least", b.label, len(fns))
		}
		for _, fn := range fns {
			var watching []Resource
			for _, a := range tpl.Resources("AWS::CloudWatch::Alarm") {
				dims := anyList(a.Props["Dimensions"])
				if a.Props["Namespace"] == "AWS/Lambda" && a.Props["MetricName"] == "Errors" && len(dims) == 1 &&
					get(dims[0], "Name") == "FunctionName" && refTo(get(dims[0], "Value"), fn.LogicalID) {
					watching = append(watching, a)
				}
			}
			if len(watching) != 1 {
				t.Errorf("%s: function %s (%s) has %d errors alarms, want 1", b.label, fn.LogicalID, str(fn.Props["FunctionName"]), len(watching))
				continue
			}
			a := watching[0].Props
			if a["Statistic"] != "Sum" || num(a["Threshold"]) != 1 || a["ComparisonOperator"] != "GreaterThanOrEqualToThreshold" || !refTo(get(a, "AlarmActions.0"), "AlertsTopic") && !strings.Contains(str(a["AlarmActions"]), "AlertsTopic") {
				t.Errorf("%s: %s's errors alarm is not Sum >= 1 to the alerts topic: %s", b.label, str(fn.Props["FunctionName"]), str(a))
			}
		}
	}
}

// TestStuckAlarmSparesTheWarmBuffer: the stuck-fleet alarm pages for idle
// instances above the group's minimum (GroupMinSize, "the minimum size of the
// Auto Scaling group": EC2 Auto Scaling User Guide, CloudWatch metrics), so a
// warm buffer holding its instances on an empty queue does not page, while
// one idle instance more does, and any fleet without a buffer pages for one.
func TestStuckAlarmSparesTheWarmBuffer(t *testing.T) {
	for _, b := range all() {
		got := alarmsByName(t, b.templates["observability"])
		for _, f := range b.stage.Cfg.Fleets {
			alarm := got[b.stage.Names.Alarm(f.Slug+"-stuck")]
			type scenario struct {
				inService, minSize, queue float64
				want                      float64
			}
			cases := []scenario{{1, 0, 0, 1}, {2, 0, 3, 0}, {0, 0, 0, 0}}
			if f.WarmBuffer.Enabled {
				m := float64(f.WarmBuffer.MinInstances)
				cases = append(cases, scenario{m, m, 0, 0}, scenario{m + 1, m, 0, 1}, scenario{m + 1, m, 2, 0})
			}
			for _, c := range cases {
				v, err := alarmDatapoint(alarm, map[string]float64{"GroupInServiceInstances": c.inService, "GroupMinSize": c.minSize, "QueueDepth": c.queue})
				if err != nil {
					t.Fatalf("%s/%s: %v", b.label, f.Slug, err)
				}
				if v != c.want {
					t.Errorf("%s/%s: in service %v, minimum %v, queue %v: datapoint %v, want %v (%s)", b.label, f.Slug, c.inService, c.minSize, c.queue, v, c.want, expressionOf(alarm))
				}
			}
		}
	}
}
