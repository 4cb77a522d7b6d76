package scaletozero

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/bp/infra/internal/fakeaws"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const topicArn = "arn:aws:sns:us-east-1:123456789012:bp-staging-scale-to-zero"

// alarmJSON renders a CloudWatch alarm notification as SNS delivers it.
func alarmJSON(t *testing.T, state, namespace, metric string, dims map[string]string) string {
	t.Helper()
	var dl []map[string]string
	for k, v := range dims {
		dl = append(dl, map[string]string{"value": v, "name": k})
	}
	b, err := json.Marshal(map[string]any{
		"AlarmName":        "bp-staging-gpu-default-queue-empty",
		"AlarmDescription": "queue empty for 15 minutes",
		"AWSAccountId":     "123456789012",
		"NewStateValue":    state,
		"NewStateReason":   "Threshold Crossed: 15 datapoints were less than or equal to the threshold (0.0).",
		"StateChangeTime":  "2026-11-27T12:00:00.000+0000",
		"Region":           "US East (N. Virginia)",
		"OldStateValue":    "OK",
		"Trigger": map[string]any{
			"MetricName": metric, "Namespace": namespace, "StatisticType": "Statistic", "Statistic": "MAXIMUM",
			"Dimensions": dl, "Period": 60, "EvaluationPeriods": 15,
			"ComparisonOperator": "LessThanOrEqualToThreshold", "Threshold": 0.0,
		},
	})
	require.NoError(t, err)
	return string(b)
}

func snsEvent(messages ...string) events.SNSEvent {
	var ev events.SNSEvent
	for i, m := range messages {
		ev.Records = append(ev.Records, events.SNSEventRecord{EventSource: "aws:sns", SNS: events.SNSEntity{
			MessageID: string(rune('a' + i)), TopicArn: topicArn, Type: "Notification", Message: m,
		}})
	}
	return ev
}

type fixture struct {
	fake *fakeaws.AutoScaling
	h    *handler
	logs *bytes.Buffer
}

func newFixture(t *testing.T) fixture {
	fake := fakeaws.NewAutoScaling(t,
		fakeaws.Group{Name: "asg-staging-gpu-default", Max: 10, Desired: 3, Tags: map[string]string{"Stage": "staging", "FleetSlug": "gpu-default"}},
		fakeaws.Group{Name: "asg-staging-gpu-idle", Max: 10, Desired: 0, Tags: map[string]string{"Stage": "staging"}},
		fakeaws.Group{Name: "asg-production-gpu-default", Max: 10, Desired: 4, Tags: map[string]string{"Stage": "production"}},
		// Misconfigured: listed for staging but tagged production.
		fakeaws.Group{Name: "asg-mislabelled", Max: 10, Desired: 2, Tags: map[string]string{"Stage": "production"}},
	)
	logs := &bytes.Buffer{}
	env, err := loadEnv(func(k string) string {
		return map[string]string{
			"STAGE":      "staging",
			"FLEET_ASGS": `{"gpu-default":"asg-staging-gpu-default","gpu-idle":"asg-staging-gpu-idle","gpu-wrongtag":"asg-mislabelled","gpu-gone":"asg-deleted"}`,
		}[k]
	})
	require.NoError(t, err)
	return fixture{fake: fake, logs: logs, h: &handler{
		env: env,
		asg: autoscaling.NewFromConfig(fakeaws.Config(fake.Server.URL)),
		log: slog.New(slog.NewJSONHandler(logs, nil)),
	}}
}

func desired(t *testing.T, f fixture, asg string) int {
	g, ok := f.fake.Group(asg)
	require.True(t, ok)
	return g.Desired
}

func TestBlocker8_OnlyOwnStageFleetsScaledToZero(t *testing.T) {
	f := newFixture(t)
	ev := snsEvent(
		alarmJSON(t, "ALARM", "ComfyUI/Workers", "QueueDepth", map[string]string{"FleetSlug": "gpu-default", "Stage": "staging"}),
		// Same slug, other stage: must not touch anything even though the slug is ours.
		alarmJSON(t, "ALARM", "ComfyUI/Workers", "QueueDepth", map[string]string{"FleetSlug": "gpu-default", "Stage": "production"}),
		// A slug of another stage's fleet set.
		alarmJSON(t, "ALARM", "ComfyUI/Workers", "QueueDepth", map[string]string{"FleetSlug": "gpu-prod-only", "Stage": "staging"}),
	)
	require.NoError(t, f.h.Handle(t.Context(), ev))

	assert.Equal(t, 0, desired(t, f, "asg-staging-gpu-default"))
	assert.Equal(t, 4, desired(t, f, "asg-production-gpu-default"))
	assert.Len(t, f.fake.CallsNamed("SetDesiredCapacity"), 1)
	call := f.fake.CallsNamed("SetDesiredCapacity")[0]
	assert.Equal(t, "asg-staging-gpu-default", call.Params.Get("AutoScalingGroupName"))
	assert.Equal(t, "0", call.Params.Get("DesiredCapacity"))
	assert.Equal(t, "false", call.Params.Get("HonorCooldown"))
	for _, c := range f.fake.Calls() {
		assert.NotContains(t, c.Params.Encode(), "production", "no call may name another stage's ASG: %v", c)
	}
	assert.Contains(t, f.logs.String(), "alarm belongs to another stage")
	assert.Contains(t, f.logs.String(), "not one of this stage's fleets")
}

func TestAlarmWithoutStageDimensionUsesFleetMap(t *testing.T) {
	f := newFixture(t)
	require.NoError(t, f.h.Handle(t.Context(), snsEvent(
		alarmJSON(t, "ALARM", "ComfyUI/Workers", "QueueDepth", map[string]string{"FleetSlug": "gpu-default"}))))
	assert.Equal(t, 0, desired(t, f, "asg-staging-gpu-default"))
}

func TestStageTagMismatchIsRefused(t *testing.T) {
	f := newFixture(t)
	require.NoError(t, f.h.Handle(t.Context(), snsEvent(
		alarmJSON(t, "ALARM", "ComfyUI/Workers", "QueueDepth", map[string]string{"FleetSlug": "gpu-wrongtag", "Stage": "staging"}))))
	assert.Equal(t, 2, desired(t, f, "asg-mislabelled"))
	assert.Empty(t, f.fake.CallsNamed("SetDesiredCapacity"))
	assert.Contains(t, f.logs.String(), "refusing to scale")
}

func TestNonAlarmMessagesAreIgnored(t *testing.T) {
	f := newFixture(t)
	dims := map[string]string{"FleetSlug": "gpu-default", "Stage": "staging"}
	require.NoError(t, f.h.Handle(t.Context(), snsEvent(
		alarmJSON(t, "OK", "ComfyUI/Workers", "QueueDepth", dims),
		alarmJSON(t, "INSUFFICIENT_DATA", "ComfyUI/Workers", "QueueDepth", dims),
		alarmJSON(t, "ALARM", "ComfyUI/Workers", "ErrorRate", dims),
		alarmJSON(t, "ALARM", "AWS/EC2", "QueueDepth", dims),
		alarmJSON(t, "ALARM", "ComfyUI/Workers", "QueueDepth", map[string]string{"Stage": "staging"}),
	)))
	assert.Empty(t, f.fake.Calls(), "no Auto Scaling call at all")
	assert.Equal(t, 3, desired(t, f, "asg-staging-gpu-default"))
}

func TestAlreadyZeroIsSkipped(t *testing.T) {
	f := newFixture(t)
	require.NoError(t, f.h.Handle(t.Context(), snsEvent(
		alarmJSON(t, "ALARM", "ComfyUI/Workers", "QueueDepth", map[string]string{"FleetSlug": "gpu-idle", "Stage": "staging"}))))
	assert.Len(t, f.fake.CallsNamed("DescribeAutoScalingGroups"), 1)
	assert.Empty(t, f.fake.CallsNamed("SetDesiredCapacity"))
	assert.Contains(t, f.logs.String(), "already at zero")
}

func TestMalformedMessageIsLoggedWithoutCalls(t *testing.T) {
	f := newFixture(t)
	require.NoError(t, f.h.Handle(t.Context(), snsEvent("not json", `{"foo":"bar"}`)))
	assert.Empty(t, f.fake.Calls())
	assert.Contains(t, f.logs.String(), "ignoring malformed message")
}

func TestMissingGroupIsIgnored(t *testing.T) {
	f := newFixture(t)
	require.NoError(t, f.h.Handle(t.Context(), snsEvent(
		alarmJSON(t, "ALARM", "ComfyUI/Workers", "QueueDepth", map[string]string{"FleetSlug": "gpu-gone"}))))
	assert.Empty(t, f.fake.CallsNamed("SetDesiredCapacity"))
}

func TestAPIFailureIsReturnedForRetry(t *testing.T) {
	f := newFixture(t)
	f.fake.Fail("SetDesiredCapacity/asg-staging-gpu-default", "ScalingActivityInProgress")
	err := f.h.Handle(t.Context(), snsEvent(
		alarmJSON(t, "ALARM", "ComfyUI/Workers", "QueueDepth", map[string]string{"FleetSlug": "gpu-default"})))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "ScalingActivityInProgress")
	assert.Equal(t, 3, desired(t, f, "asg-staging-gpu-default"))
}

func TestLoadEnvErrors(t *testing.T) {
	for name, env := range map[string]map[string]string{
		"STAGE is required":      {"FLEET_ASGS": `{}`},
		"FLEET_ASGS is required": {"STAGE": "staging"},
		"not a JSON object":      {"STAGE": "staging", "FLEET_ASGS": `["a"]`},
		"empty slug":             {"STAGE": "staging", "FLEET_ASGS": `{"a":""}`},
	} {
		_, err := loadEnv(func(k string) string { return env[k] })
		assert.ErrorContains(t, err, name)
	}
}

// TestQueueDeepAlarmNeverScalesToZero: an ALARM on QueueDepth that means "the
// queue is deep" (misrouted to this topic) must not empty a busy fleet.
func TestQueueDeepAlarmNeverScalesToZero(t *testing.T) {
	f := newFixture(t)
	dims := map[string]string{"FleetSlug": "gpu-default", "Stage": "staging"}
	deep := strings.Replace(strings.Replace(alarmJSON(t, "ALARM", "ComfyUI/Workers", "QueueDepth", dims),
		`"ComparisonOperator":"LessThanOrEqualToThreshold"`, `"ComparisonOperator":"GreaterThanOrEqualToThreshold"`, 1),
		`"Threshold":0`, `"Threshold":10`, 1)
	require.Contains(t, deep, "GreaterThanOrEqualToThreshold")
	require.NoError(t, f.h.Handle(t.Context(), snsEvent(deep)))
	assert.Empty(t, f.fake.CallsNamed("SetDesiredCapacity"))
	assert.Equal(t, 3, desired(t, f, "asg-staging-gpu-default"))
}
