package reaper

import (
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/bp/infra/internal/fakeaws"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const alertTopic = "arn:aws:sns:us-east-1:123456789012:bp-staging-ops-alerts"

var testNow = time.Date(2026, 11, 27, 12, 7, 31, 0, time.UTC)

type fixture struct {
	cw     *fakeaws.CloudWatch
	asg    *fakeaws.AutoScaling
	sns    *fakeaws.SNS
	h      *handler
	fleets []fleet
}

func zeros(n int) []float64 { return make([]float64, n) }

func instances(prefix string, n int, state string, protected bool) []fakeaws.Instance {
	var out []fakeaws.Instance
	for i := range n {
		out = append(out, fakeaws.Instance{ID: fmt.Sprintf("%s-%02d", prefix, i), LifecycleState: state, Protected: protected})
	}
	return out
}

func newFixture(t *testing.T, groups []fakeaws.Group, fleets ...fleet) *fixture {
	f := &fixture{cw: fakeaws.NewCloudWatch(t), asg: fakeaws.NewAutoScaling(t, groups...), sns: fakeaws.NewSNS(t), fleets: fleets}
	f.h = &handler{
		env: environment{Stage: "staging", Fleets: fleets, MetricNamespace: "ComfyUI/Workers",
			IdleMinutes: 30, AlertTopicArn: alertTopic},
		metrics: cloudwatch.NewFromConfig(fakeaws.Config(f.cw.Server.URL)),
		asg:     autoscaling.NewFromConfig(fakeaws.Config(f.asg.Server.URL)),
		alerts:  sns.NewFromConfig(fakeaws.Config(f.sns.Server.URL)),
		log:     slog.New(slog.NewJSONHandler(io.Discard, nil)),
		now:     func() time.Time { return testNow },
	}
	return f
}

func (f *fixture) series(slug string, values []float64) {
	f.cw.SetSeries(map[string]string{"FleetSlug": slug, "Stage": "staging"}, values)
}

func group(name, stage string, ins ...[]fakeaws.Instance) fakeaws.Group {
	g := fakeaws.Group{Name: name, Max: 100, Tags: map[string]string{"Stage": stage}}
	for _, l := range ins {
		g.Instances = append(g.Instances, l...)
		g.Desired += len(l)
	}
	return g
}

func protectedIDs(t *testing.T, f *fixture, asg string) []string {
	g, ok := f.asg.Group(asg)
	require.True(t, ok)
	var ids []string
	for _, in := range g.Instances {
		if in.Protected {
			ids = append(ids, in.ID)
		}
	}
	return ids
}

func TestClearsOnlyProtectedInstancesOfIdleFleets(t *testing.T) {
	f := newFixture(t,
		[]fakeaws.Group{
			group("asg-idle", "staging", instances("i-idle", 2, "InService", true), instances("i-free", 1, "InService", false),
				instances("i-boot", 1, "Pending", true)),
			group("asg-busy", "staging", instances("i-busy", 2, "InService", true)),
			group("asg-sparse", "staging", instances("i-sparse", 1, "InService", true)),
		},
		fleet{Slug: "gpu-idle", ASGName: "asg-idle"}, fleet{Slug: "gpu-busy", ASGName: "asg-busy"}, fleet{Slug: "gpu-sparse", ASGName: "asg-sparse"})
	f.series("gpu-idle", zeros(30))
	busy := zeros(30)
	busy[3] = 1 // one leased job 26 minutes ago
	f.series("gpu-busy", busy)
	f.series("gpu-sparse", zeros(23)) // 23 of 30 minutes < 80%

	require.NoError(t, f.h.Handle(t.Context(), events.CloudWatchEvent{}))

	assert.Equal(t, []string{"i-boot-00"}, protectedIDs(t, f, "asg-idle"), "only InService protection is cleared")
	assert.Equal(t, []string{"i-busy-00", "i-busy-01"}, protectedIDs(t, f, "asg-busy"))
	assert.Equal(t, []string{"i-sparse-00"}, protectedIDs(t, f, "asg-sparse"))
	assert.Empty(t, f.asg.MutatingCallsFor("asg-busy"))
	assert.Empty(t, f.asg.MutatingCallsFor("asg-sparse"))

	pub := f.sns.Published()
	require.Len(t, pub, 1)
	assert.Equal(t, alertTopic, pub[0].TopicArn)
	assert.Contains(t, pub[0].Subject, "[staging]")
	assert.Contains(t, pub[0].Subject, "gpu-idle")
	for _, want := range []string{"Stage: staging", "Fleet: gpu-idle", "Auto Scaling group: asg-idle",
		"Instances: i-idle-00, i-idle-01", "QueueDepth was 0 in all 30 datapoints of the last 30 minutes"} {
		assert.Contains(t, pub[0].Message, want)
	}
}

func TestQueriesQueueDepthMaximumPerMinuteOverTheWindow(t *testing.T) {
	f := newFixture(t, []fakeaws.Group{group("asg-a", "staging")}, fleet{Slug: "gpu-a", ASGName: "asg-a"})
	require.NoError(t, f.h.Handle(t.Context(), events.CloudWatchEvent{}))
	q := f.cw.Queries()
	require.Len(t, q, 1)
	assert.Equal(t, "ComfyUI/Workers", q[0].Namespace)
	assert.Equal(t, "QueueDepth", q[0].MetricName)
	assert.Equal(t, map[string]string{"FleetSlug": "gpu-a", "Stage": "staging"}, q[0].Dimensions)
	assert.Equal(t, "Maximum", q[0].Stat)
	assert.Equal(t, int64(60), q[0].Period)
	assert.Equal(t, time.Date(2026, 11, 27, 12, 7, 0, 0, time.UTC), q[0].End.UTC())
	assert.Equal(t, 30*time.Minute, q[0].End.Sub(q[0].Start))
	assert.Empty(t, f.asg.Calls(), "no data: the fleet is not idle and the ASG is not even read")
}

func TestLargeFleetIsClearedInBatchesOf50(t *testing.T) {
	f := newFixture(t, []fakeaws.Group{group("asg-big", "staging", instances("i-big", 120, "InService", true))},
		fleet{Slug: "gpu-big", ASGName: "asg-big"})
	f.series("gpu-big", zeros(24)) // exactly 80%
	require.NoError(t, f.h.Handle(t.Context(), events.CloudWatchEvent{}))
	assert.Empty(t, protectedIDs(t, f, "asg-big"))
	calls := f.asg.CallsNamed("SetInstanceProtection")
	require.Len(t, calls, 3)
	for _, c := range calls {
		assert.Equal(t, "false", c.Params.Get("ProtectedFromScaleIn"))
		assert.Equal(t, "asg-big", c.Params.Get("AutoScalingGroupName"))
	}
	pub := f.sns.Published()
	require.Len(t, pub, 1, "one message per fleet, not per batch")
	assert.Equal(t, 120, strings.Count(pub[0].Message, "i-big-"))
}

func TestOtherStageGroupIsNeverTouchedAndOtherFleetsContinue(t *testing.T) {
	f := newFixture(t,
		[]fakeaws.Group{
			group("asg-prod", "production", instances("i-prod", 2, "InService", true)),
			group("asg-cwfail", "staging", instances("i-cw", 1, "InService", true)),
			group("asg-ok", "staging", instances("i-ok", 1, "InService", true)),
		},
		fleet{Slug: "gpu-prod", ASGName: "asg-prod"}, fleet{Slug: "gpu-cwfail", ASGName: "asg-cwfail"}, fleet{Slug: "gpu-ok", ASGName: "asg-ok"})
	f.series("gpu-prod", zeros(30))
	f.cw.FailFor(map[string]string{"FleetSlug": "gpu-cwfail", "Stage": "staging"}, "InternalServiceFault")
	f.series("gpu-ok", zeros(30))

	err := f.h.Handle(t.Context(), events.CloudWatchEvent{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `fleet gpu-prod: auto scaling group asg-prod belongs to stage "production"`)
	assert.Contains(t, err.Error(), "fleet gpu-cwfail: get QueueDepth of fleet gpu-cwfail")
	assert.Contains(t, err.Error(), "InternalServiceFault")

	assert.Empty(t, f.asg.MutatingCallsFor("asg-prod"))
	assert.Len(t, protectedIDs(t, f, "asg-prod"), 2)
	assert.Len(t, protectedIDs(t, f, "asg-cwfail"), 1)
	assert.Empty(t, protectedIDs(t, f, "asg-ok"), "a failing fleet does not stop the next one")
	require.Len(t, f.sns.Published(), 1)
	assert.Contains(t, f.sns.Published()[0].Message, "Fleet: gpu-ok")
}

func TestIdleFleetWithoutProtectionPublishesNothing(t *testing.T) {
	f := newFixture(t, []fakeaws.Group{group("asg-a", "staging", instances("i-a", 2, "InService", false))}, fleet{Slug: "gpu-a", ASGName: "asg-a"})
	f.series("gpu-a", zeros(30))
	require.NoError(t, f.h.Handle(t.Context(), events.CloudWatchEvent{}))
	assert.Empty(t, f.asg.CallsNamed("SetInstanceProtection"))
	assert.Empty(t, f.sns.Published())
}

func TestPublishFailureIsReported(t *testing.T) {
	f := newFixture(t, []fakeaws.Group{group("asg-a", "staging", instances("i-a", 1, "InService", true))}, fleet{Slug: "gpu-a", ASGName: "asg-a"})
	f.series("gpu-a", zeros(30))
	f.sns.Fail("AuthorizationError")
	err := f.h.Handle(t.Context(), events.CloudWatchEvent{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "AuthorizationError")
}

func TestEvaluateWindow(t *testing.T) {
	assert.True(t, evaluateWindow(zeros(24), 30).Idle)
	assert.False(t, evaluateWindow(zeros(23), 30).Idle)
	assert.True(t, evaluateWindow(zeros(4), 5).Idle)
	assert.False(t, evaluateWindow(zeros(3), 5).Idle)
	assert.Contains(t, evaluateWindow([]float64{0, 0.5}, 5).Reason, "reached 0.5")
	assert.False(t, evaluateWindow(nil, 30).Idle)
}

func TestLoadEnv(t *testing.T) {
	env, err := loadEnv(func(k string) string {
		return map[string]string{"STAGE": "staging", "ALERT_TOPIC_ARN": alertTopic,
			"FLEETS": `[{"slug":"gpu-default","asgName":"asg-staging-gpu-default"}]`}[k]
	})
	require.NoError(t, err)
	assert.Equal(t, environment{Stage: "staging", AlertTopicArn: alertTopic, MetricNamespace: "ComfyUI/Workers",
		IdleMinutes: 30, Fleets: []fleet{{Slug: "gpu-default", ASGName: "asg-staging-gpu-default"}}}, env)

	for want, vars := range map[string]map[string]string{
		"STAGE is required":           {"ALERT_TOPIC_ARN": "x", "FLEETS": "[]"},
		"ALERT_TOPIC_ARN is required": {"STAGE": "s", "FLEETS": "[]"},
		"IDLE_LIMIT_MINUTES":          {"STAGE": "s", "ALERT_TOPIC_ARN": "x", "FLEETS": "[]", "IDLE_LIMIT_MINUTES": "2"},
		"needs slug and asgName":      {"STAGE": "s", "ALERT_TOPIC_ARN": "x", "FLEETS": `[{"slug":"a"}]`},
	} {
		_, err := loadEnv(func(k string) string { return vars[k] })
		assert.ErrorContains(t, err, want)
	}
}

// TestPerFleetIdleWindow: each fleet is judged over its own configured window.
func TestPerFleetIdleWindow(t *testing.T) {
	env, err := loadEnv(func(k string) string {
		return map[string]string{"STAGE": "staging", "ALERT_TOPIC_ARN": alertTopic, "IDLE_LIMIT_MINUTES": "30",
			"FLEETS": `[{"slug":"a","asgName":"asg-a","idleLimitMinutes":45},{"slug":"b","asgName":"asg-b"}]`}[k]
	})
	require.NoError(t, err)
	assert.Equal(t, 45, env.idleMinutes(env.Fleets[0]))
	assert.Equal(t, 30, env.idleMinutes(env.Fleets[1]))
	_, err = loadEnv(func(k string) string {
		return map[string]string{"STAGE": "s", "ALERT_TOPIC_ARN": "x", "FLEETS": `[{"slug":"a","asgName":"b","idleLimitMinutes":2}]`}[k]
	})
	assert.ErrorContains(t, err, "idleLimitMinutes")
}
