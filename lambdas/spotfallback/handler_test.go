package spotfallback

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/bp/infra/internal/fakeaws"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	alertTopic = "arn:aws:sns:us-east-1:123456789012:bp-staging-ops-alerts"
	stateTag   = "bp:on-demand-fallback"
	asgName    = "bp-staging-gpu-default"
)

var t0 = time.Date(2026, 11, 27, 12, 0, 30, 0, time.UTC)

// Status messages of failed launches as EC2 Auto Scaling writes them, copied
// from describe-scaling-activities output published in aws/aws-parallelcluster
// issue 1944 (msgNoSpot), kubernetes/autoscaler issues 3241 (msgMixedNoSpot),
// 1402 (msgOnDemandICE, with a real type and zone) and 1263 (msgQuota).
// msgUnfulfill puts the EC2 API Reference's text for the error code
// UnfulfillableCapacity in the form of msgMixedNoSpot.
const (
	msgNoSpot      = "There is no Spot capacity available that matches your request. Launching EC2 instance failed."
	msgMixedNoSpot = "Could not launch Spot Instances. InsufficientInstanceCapacity - There is no Spot capacity available that matches your request. Launching EC2 instance failed."
	msgUnfulfill   = "Could not launch Spot Instances. UnfulfillableCapacity - At this time there isn't enough spare capacity to fulfill your request for Spot Instances. Launching EC2 instance failed."
	msgOnDemandICE = "We currently do not have sufficient g5.xlarge capacity in the Availability Zone you requested (us-east-1a). Our system will be working on provisioning additional capacity. You can currently get g5.xlarge capacity by not specifying an Availability Zone in your request or choosing us-east-1b. Launching EC2 instance failed."
	msgQuota       = "You have requested more instances (7) than your current instance limit of 6 allows for the specified instance type. Please visit http://aws.amazon.com/contact-us/ec2-request to request an adjustment to this limit. Launching EC2 instance failed."
)

func failedLaunch(at time.Time, msg string) fakeaws.Activity {
	return fakeaws.Activity{ID: "act-fail-" + at.Format("150405"), Description: "Launching a new EC2 instance.  Status Reason: " + msg,
		StatusCode: "Failed", StatusMessage: msg, Start: at,
		Cause: "At " + at.Format(time.RFC3339) + " an instance was started in response to a difference between desired and actual capacity, increasing the capacity from 0 to 1."}
}

func launched(at time.Time, id string) fakeaws.Activity {
	return fakeaws.Activity{ID: "act-ok-" + id, Description: "Launching a new EC2 instance: " + id, StatusCode: "Successful", Start: at}
}

type fixture struct {
	t    *testing.T
	asg  *fakeaws.AutoScaling
	cw   *fakeaws.CloudWatch
	ec2  *fakeaws.EC2
	sns  *fakeaws.SNS
	h    *handler
	now  time.Time
	logs *bytes.Buffer
}

func spotGroup(name, stage string, desired int, ins ...fakeaws.Instance) fakeaws.Group {
	return fakeaws.Group{Name: name, Max: 10, Desired: desired, Instances: ins,
		Tags:         map[string]string{"Stage": stage, "FleetSlug": "gpu-default"},
		Distribution: &fakeaws.Distribution{OnDemandAllocationStrategy: "prioritized", SpotAllocationStrategy: "price-capacity-optimized"}}
}

func defaultFleet() fleet {
	return fleet{Slug: "gpu-default", ASGName: asgName, MaxInstances: 2, AfterMinutes: 3, ScaleToZeroMinutes: 15}
}

func newFixture(t *testing.T, groups []fakeaws.Group, fleets ...fleet) *fixture {
	if len(fleets) == 0 {
		fleets = []fleet{defaultFleet()}
	}
	f := &fixture{t: t, asg: fakeaws.NewAutoScaling(t, groups...), cw: fakeaws.NewCloudWatch(t), ec2: fakeaws.NewEC2(t),
		sns: fakeaws.NewSNS(t), now: t0, logs: &bytes.Buffer{}}
	f.h = &handler{
		env:     environment{Stage: "staging", Fleets: fleets, MetricNamespace: "ComfyUI/Workers", AlertTopicArn: alertTopic, StateTag: stateTag},
		asg:     autoscaling.NewFromConfig(fakeaws.Config(f.asg.Server.URL)),
		metrics: cloudwatch.NewFromConfig(fakeaws.Config(f.cw.Server.URL)),
		ec2:     ec2.NewFromConfig(fakeaws.Config(f.ec2.Server.URL)),
		alerts:  sns.NewFromConfig(fakeaws.Config(f.sns.Server.URL)),
		log:     slog.New(slog.NewJSONHandler(&bytes.Buffer{}, nil)),
		now:     func() time.Time { return f.now },
	}
	f.h.log = slog.New(slog.NewJSONHandler(f.logs, nil))
	return f
}

// queue sets QueueDepth of the last len(values) minutes, oldest first.
func (f *fixture) queue(slug string, values ...float64) {
	f.cw.SetSeries(map[string]string{"FleetSlug": slug, "Stage": "staging"}, values)
}

func repeat(v float64, n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = v
	}
	return out
}

func (f *fixture) run() error { return f.h.Handle(f.t.Context(), events.CloudWatchEvent{}) }

func (f *fixture) group(name string) fakeaws.Group {
	g, ok := f.asg.Group(name)
	require.True(f.t, ok)
	return g
}

func (f *fixture) base(name string) int { return f.group(name).Distribution.OnDemandBaseCapacity }

func (f *fixture) tag(name string) string { return f.group(name).Tags[stateTag] }

func TestSpotShortFallsBackWithinTheBoundAndAlertsOnce(t *testing.T) {
	for _, msg := range []string{msgNoSpot, msgMixedNoSpot, msgUnfulfill} {
		t.Run(msg[:20], func(t *testing.T) {
			g := spotGroup(asgName, "staging", 1)
			g.Activities = []fakeaws.Activity{failedLaunch(t0.Add(-150*time.Second), msg), failedLaunch(t0.Add(-30*time.Second), msg)}
			f := newFixture(t, []fakeaws.Group{g})
			f.queue("gpu-default", 0, 1, 2, 2, 3)

			require.NoError(t, f.run())

			got := f.group(asgName)
			assert.Equal(t, 2, got.Distribution.OnDemandBaseCapacity, "base raised to maxInstances")
			assert.Equal(t, 0, got.Distribution.OnDemandPercentageAboveBaseCapacity, "the rest of the distribution is kept")
			assert.Equal(t, "price-capacity-optimized", got.Distribution.SpotAllocationStrategy)
			assert.Equal(t, 1, got.Desired, "desired capacity is the scaling policies' business")
			assert.Equal(t, "active since 2026-11-27T12:00:30Z", got.Tags[stateTag])
			updates := f.asg.CallsNamed("UpdateAutoScalingGroup")
			require.Len(t, updates, 1)
			for _, k := range []string{"OnDemandBaseCapacity", "OnDemandPercentageAboveBaseCapacity", "SpotAllocationStrategy", "OnDemandAllocationStrategy"} {
				assert.NotEmpty(t, updates[0].Params.Get("MixedInstancesPolicy.InstancesDistribution."+k), "update sends %s as the group has it", k)
			}
			assert.Empty(t, updates[0].Params.Get("MixedInstancesPolicy.LaunchTemplate.LaunchTemplateSpecification.LaunchTemplateName"))

			pub := f.sns.Published()
			require.Len(t, pub, 1)
			assert.Equal(t, alertTopic, pub[0].TopicArn)
			assert.Equal(t, "[staging] fleet gpu-default: no Spot capacity, On-Demand fallback on", pub[0].Subject)
			for _, want := range []string{"Auto Scaling group: " + asgName, "OnDemandBaseCapacity: 2", "Last failed launch: " + msg, "about twice Spot"} {
				assert.Contains(t, pub[0].Message, want)
			}

			// Later runs while Spot stays short: no second alert, no higher base.
			for i := 1; i <= 5; i++ {
				f.now = t0.Add(time.Duration(i) * time.Minute)
				f.queue("gpu-default", repeat(3, 10)...)
				require.NoError(t, f.run())
			}
			assert.Len(t, f.sns.Published(), 1, "one alert per episode")
			assert.Equal(t, 2, f.base(asgName))
			assert.Len(t, f.asg.CallsNamed("UpdateAutoScalingGroup"), 1, "nothing to re-assert")
		})
	}
}

func TestNoFallbackWithoutAllThreeSignals(t *testing.T) {
	cases := []struct {
		name  string
		queue []float64
		acts  []fakeaws.Activity
		ins   []fakeaws.Instance
	}{
		{"queue non-empty for 2 of 3 minutes", []float64{0, 0, 2, 2}, []fakeaws.Activity{failedLaunch(t0.Add(-time.Minute), msgNoSpot)}, nil},
		{"a datapoint is missing", []float64{2, 2}, []fakeaws.Activity{failedLaunch(t0.Add(-time.Minute), msgNoSpot)}, nil},
		{"a launch after the failure went through", repeat(2, 5),
			[]fakeaws.Activity{failedLaunch(t0.Add(-2*time.Minute), msgNoSpot), launched(t0.Add(-time.Minute), "i-0aa")},
			[]fakeaws.Instance{{ID: "i-0aa", LifecycleState: "Pending"}}},
		{"on-demand short, not spot", repeat(2, 5), []fakeaws.Activity{failedLaunch(t0.Add(-time.Minute), msgOnDemandICE)}, nil},
		{"quota, not capacity", repeat(2, 5), []fakeaws.Activity{failedLaunch(t0.Add(-time.Minute), msgQuota)}, nil},
		{"the failure is older than afterMinutes", repeat(2, 10), []fakeaws.Activity{failedLaunch(t0.Add(-4*time.Minute), msgNoSpot)}, nil},
		{"no instance is missing", repeat(2, 5), []fakeaws.Activity{failedLaunch(t0.Add(-time.Minute), msgNoSpot)},
			[]fakeaws.Instance{{ID: "i-0bb", LifecycleState: "InService"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g := spotGroup(asgName, "staging", 1, c.ins...)
			g.Activities = c.acts
			f := newFixture(t, []fakeaws.Group{g})
			f.queue("gpu-default", c.queue...)
			require.NoError(t, f.run())
			assert.Equal(t, 0, f.base(asgName))
			assert.Empty(t, f.asg.MutatingCallsFor(asgName))
			assert.Empty(t, f.sns.Published())
		})
	}
}

func activeGroup(since time.Time, base int, desired int, ins ...fakeaws.Instance) fakeaws.Group {
	g := spotGroup(asgName, "staging", desired, ins...)
	g.Distribution.OnDemandBaseCapacity = base
	g.Tags[stateTag] = "active since " + since.UTC().Format(time.RFC3339)
	return g
}

func TestSpotBackRevertsAfterTheHold(t *testing.T) {
	since := t0.Add(-10 * time.Minute)
	ins := []fakeaws.Instance{{ID: "i-0d1", LifecycleState: "InService", Protected: true}, {ID: "i-0d2", LifecycleState: "InService"},
		{ID: "i-0a3", LifecycleState: "Pending"}}
	g := activeGroup(since, 2, 3, ins...)
	g.Activities = []fakeaws.Activity{
		failedLaunch(since.Add(-time.Minute), msgNoSpot),
		launched(since.Add(time.Minute), "i-0d1"), launched(since.Add(2*time.Minute), "i-0d2"),
		launched(t0.Add(-30*time.Second), "i-0a3"),
	}
	f := newFixture(t, []fakeaws.Group{g})
	f.ec2.Put(fakeaws.EC2Instance{ID: "i-0d1", ImageID: "ami-1"})
	f.ec2.Put(fakeaws.EC2Instance{ID: "i-0d2", ImageID: "ami-1"})
	f.ec2.Put(fakeaws.EC2Instance{ID: "i-0a3", ImageID: "ami-1", Lifecycle: "spot"})
	f.queue("gpu-default", repeat(4, 16)...)

	require.NoError(t, f.run())

	assert.Equal(t, 0, f.base(asgName), "back to the template's base")
	assert.Equal(t, "ended 2026-11-27T12:00:30Z", f.tag(asgName))
	assert.Empty(t, f.sns.Published(), "the episode's alert was its only message")
	assert.Contains(t, f.logs.String(), "Spot instance i-0a3 launched after the fallback started")
	assert.Empty(t, f.asg.CallsNamed("SetDesiredCapacity"))
	assert.Empty(t, f.asg.CallsNamed("SetInstanceProtection"), "busy workers are left alone")
	calls := f.ec2.Calls()
	require.Len(t, calls, 1)
	assert.ElementsMatch(t, []string{"i-0d1", "i-0d2", "i-0a3"}, []string{calls[0].Params.Get("InstanceId.1"), calls[0].Params.Get("InstanceId.2"), calls[0].Params.Get("InstanceId.3")})
}

func TestOnlyOnDemandLaunchesKeepTheFallback(t *testing.T) {
	since := t0.Add(-10 * time.Minute)
	g := activeGroup(since, 2, 3, fakeaws.Instance{ID: "i-0d1", LifecycleState: "InService"})
	g.Activities = []fakeaws.Activity{launched(since.Add(time.Minute), "i-0d1"), failedLaunch(t0.Add(-time.Minute), msgNoSpot),
		launched(since.Add(2*time.Minute), "i-gone")} // terminated since: not asked about
	f := newFixture(t, []fakeaws.Group{g})
	f.ec2.Put(fakeaws.EC2Instance{ID: "i-0d1", ImageID: "ami-1"})
	f.queue("gpu-default", repeat(4, 16)...)
	require.NoError(t, f.run())
	assert.Equal(t, 2, f.base(asgName))
	assert.True(t, strings.HasPrefix(f.tag(asgName), "active since"))
	assert.Empty(t, f.asg.MutatingCallsFor(asgName))
}

func TestNoFlapping(t *testing.T) {
	t.Run("no revert within afterMinutes of the start", func(t *testing.T) {
		since := t0.Add(-2 * time.Minute)
		g := activeGroup(since, 2, 0) // at zero, queue empty: would revert, but too soon
		f := newFixture(t, []fakeaws.Group{g})
		f.queue("gpu-default", repeat(0, 16)...)
		require.NoError(t, f.run())
		assert.Equal(t, 2, f.base(asgName))
		assert.Empty(t, f.asg.MutatingCallsFor(asgName))
	})
	t.Run("no new fallback within afterMinutes of the end", func(t *testing.T) {
		g := spotGroup(asgName, "staging", 1)
		g.Tags[stateTag] = "ended " + t0.Add(-2*time.Minute).Format(time.RFC3339)
		g.Activities = []fakeaws.Activity{failedLaunch(t0.Add(-30*time.Second), msgNoSpot)}
		f := newFixture(t, []fakeaws.Group{g})
		f.queue("gpu-default", repeat(2, 10)...)
		require.NoError(t, f.run())
		assert.Equal(t, 0, f.base(asgName))
		assert.Empty(t, f.sns.Published())

		f.now = t0.Add(time.Minute) // 3 minutes after the end: a new episode
		f.asg.AddActivity(asgName, failedLaunch(f.now.Add(-10*time.Second), msgNoSpot))
		require.NoError(t, f.run())
		assert.Equal(t, 2, f.base(asgName))
		assert.Len(t, f.sns.Published(), 1)
	})
}

func TestRevertsWhenTheQueueEmptiedOrTheFleetIsAtZero(t *testing.T) {
	since := t0.Add(-30 * time.Minute)
	t.Run("queue empty for the scale-to-zero window", func(t *testing.T) {
		f := newFixture(t, []fakeaws.Group{activeGroup(since, 2, 1, fakeaws.Instance{ID: "i-0d1", LifecycleState: "InService"})})
		f.queue("gpu-default", append([]float64{3}, repeat(0, 15)...)...)
		require.NoError(t, f.run())
		assert.Equal(t, 0, f.base(asgName))
		assert.Contains(t, f.logs.String(), "QueueDepth was 0 for the 15-minute scale-to-zero window")
		assert.Empty(t, f.ec2.Calls(), "no need to look for Spot")
	})
	t.Run("14 empty minutes are not enough", func(t *testing.T) {
		f := newFixture(t, []fakeaws.Group{activeGroup(since, 2, 1, fakeaws.Instance{ID: "i-0d1", LifecycleState: "InService"})})
		f.queue("gpu-default", append(repeat(3, 2), repeat(0, 14)...)...)
		require.NoError(t, f.run())
		assert.Equal(t, 2, f.base(asgName))
	})
	t.Run("fleet at zero", func(t *testing.T) {
		f := newFixture(t, []fakeaws.Group{activeGroup(since, 2, 0)})
		f.queue("gpu-default", repeat(1, 16)...)
		require.NoError(t, f.run())
		assert.Equal(t, 0, f.base(asgName))
	})
}

// TestReassertsItsStateEveryRun: a deploy that writes the template's base
// (0) back during a fallback is undone within one run; a base left raised
// without an active state (a crash between calls) is restored.
func TestReassertsItsStateEveryRun(t *testing.T) {
	f := newFixture(t, []fakeaws.Group{activeGroup(t0.Add(-time.Minute), 0, 1)})
	f.queue("gpu-default", repeat(2, 16)...)
	require.NoError(t, f.run())
	assert.Equal(t, 2, f.base(asgName))
	assert.Empty(t, f.sns.Published(), "re-asserting is not a new episode")

	g := spotGroup(asgName, "staging", 1)
	g.Distribution.OnDemandBaseCapacity = 2
	g.Tags[stateTag] = "ended " + t0.Add(-time.Hour).Format(time.RFC3339)
	f = newFixture(t, []fakeaws.Group{g})
	require.NoError(t, f.run())
	assert.Equal(t, 0, f.base(asgName))
}

func TestAlertIsRetriedUntilSentOnce(t *testing.T) {
	g := spotGroup(asgName, "staging", 1)
	g.Activities = []fakeaws.Activity{failedLaunch(t0.Add(-time.Minute), msgNoSpot)}
	f := newFixture(t, []fakeaws.Group{g})
	f.queue("gpu-default", repeat(2, 5)...)
	f.sns.Fail("KMSAccessDenied")
	err := f.run()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "KMSAccessDenied")
	assert.Equal(t, 2, f.base(asgName), "the fallback itself is in place")
	assert.Equal(t, "active since 2026-11-27T12:00:30Z alert-pending", f.tag(asgName))

	f2 := newFixture(t, []fakeaws.Group{f.group(asgName)})
	f2.now = t0.Add(time.Minute)
	f2.queue("gpu-default", repeat(2, 5)...)
	require.NoError(t, f2.run())
	require.Len(t, f2.sns.Published(), 1)
	assert.Equal(t, "active since 2026-11-27T12:00:30Z", f2.tag(asgName))
	require.NoError(t, f2.run())
	assert.Len(t, f2.sns.Published(), 1)
}

func TestNeverTouchesAnotherStagesFleet(t *testing.T) {
	prod := spotGroup("bp-production-gpu-default", "production", 1)
	prod.Activities = []fakeaws.Activity{failedLaunch(t0.Add(-time.Minute), msgNoSpot)}
	ok := spotGroup(asgName, "staging", 1)
	ok.Activities = []fakeaws.Activity{failedLaunch(t0.Add(-time.Minute), msgNoSpot)}
	f := newFixture(t, []fakeaws.Group{prod, ok},
		fleet{Slug: "gpu-prod", ASGName: "bp-production-gpu-default", MaxInstances: 2, AfterMinutes: 3, ScaleToZeroMinutes: 15},
		defaultFleet())
	f.queue("gpu-prod", repeat(2, 5)...)
	f.queue("gpu-default", repeat(2, 5)...)
	err := f.run()
	require.Error(t, err)
	assert.Contains(t, err.Error(), `fleet gpu-prod: auto scaling group bp-production-gpu-default belongs to stage "production"`)
	assert.Empty(t, f.asg.MutatingCallsFor("bp-production-gpu-default"))
	assert.Equal(t, 0, f.base("bp-production-gpu-default"))
	assert.Equal(t, 2, f.base(asgName), "the next fleet is still handled")
	for _, q := range f.cw.Queries() {
		assert.Equal(t, "staging", q.Dimensions["Stage"])
	}
}

// TestReadsActivitiesAcrossPages: a busy group's history spans pages; the
// handler reads back to the fallback's start and no further.
func TestReadsActivitiesAcrossPages(t *testing.T) {
	since := t0.Add(-3 * time.Hour)
	g := activeGroup(since, 2, 1, fakeaws.Instance{ID: "i-0a1", LifecycleState: "InService"})
	g.Activities = append(g.Activities, launched(since.Add(time.Minute), "i-0a1"))
	for i := range 250 {
		g.Activities = append(g.Activities, failedLaunch(t0.Add(-time.Duration(i+1)*30*time.Second), msgNoSpot))
	}
	g.Activities = append(g.Activities, failedLaunch(since.Add(-time.Hour), msgNoSpot))
	f := newFixture(t, []fakeaws.Group{g})
	f.ec2.Put(fakeaws.EC2Instance{ID: "i-0a1", ImageID: "ami-1", Lifecycle: "spot"})
	f.queue("gpu-default", repeat(2, 16)...)
	require.NoError(t, f.run())
	assert.Equal(t, 0, f.base(asgName), "the Spot launch on page 3 was found")
	assert.Len(t, f.asg.CallsNamed("DescribeScalingActivities"), 3)
}

// TestAnOldLaunchStillInProgressHidesNoNewFailure: the API lists activities
// still in progress first, whatever their start, so one that started before
// the window sits above the window's failed launches; reading on past it
// still finds them.
func TestAnOldLaunchStillInProgressHidesNoNewFailure(t *testing.T) {
	g := spotGroup(asgName, "staging", 1)
	stuck := fakeaws.Activity{ID: "act-stuck", Description: "Launching a new EC2 instance: i-0old", StatusCode: "WaitingForInstanceWarmup", Start: t0.Add(-time.Hour)}
	g.Activities = []fakeaws.Activity{stuck, failedLaunch(t0.Add(-150*time.Second), msgNoSpot), failedLaunch(t0.Add(-30*time.Second), msgNoSpot)}
	f := newFixture(t, []fakeaws.Group{g})
	f.queue("gpu-default", 0, 1, 2, 2, 3)
	require.NoError(t, f.run())
	assert.Equal(t, 2, f.base(asgName), "the failed Spot launches below the old in-progress one were read")
}

func TestLoadEnv(t *testing.T) {
	base := map[string]string{"STAGE": "staging", "ALERT_TOPIC_ARN": alertTopic, "STATE_TAG": stateTag,
		"FLEETS": `[{"slug":"gpu-default","asgName":"a","maxInstances":2,"afterMinutes":3,"scaleToZeroMinutes":15,"baseCapacity":0}]`}
	get := func(over map[string]string) func(string) string {
		return func(k string) string {
			if v, ok := over[k]; ok {
				return v
			}
			return base[k]
		}
	}
	env, err := loadEnv(get(nil))
	require.NoError(t, err)
	assert.Equal(t, "ComfyUI/Workers", env.MetricNamespace)
	assert.Equal(t, 15, env.Fleets[0].window())
	for key, bad := range map[string]string{
		"STAGE": "", "ALERT_TOPIC_ARN": "", "STATE_TAG": "aws:x",
		"FLEETS": `[{"slug":"a","asgName":"b","maxInstances":0,"afterMinutes":3,"scaleToZeroMinutes":15}]`,
	} {
		_, err := loadEnv(get(map[string]string{key: bad}))
		assert.Error(t, err, key)
	}
}

func TestStateRoundTrip(t *testing.T) {
	for _, s := range []state{{Active: true, Since: t0}, {Active: true, Since: t0, AlertPending: true}, {Since: t0}, {}} {
		got, err := parseState(s.String())
		require.NoError(t, err)
		assert.Equal(t, s.Active, got.Active)
		assert.Equal(t, s.AlertPending, got.AlertPending)
		assert.True(t, s.Since.Equal(got.Since), fmt.Sprint(s))
	}
	for _, bad := range []string{"on", "active since yesterday", "ended", "active since 2026-11-27T12:00:30Z extra"} {
		_, err := parseState(bad)
		assert.Error(t, err, bad)
	}
}
