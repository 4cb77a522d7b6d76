package scaletozero

import (
	"bytes"
	"log/slog"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/bp/infra/internal/fakeaws"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestWarmBufferIsTheFloor: during a warm buffer the group's MinSize is above
// zero, and Auto Scaling refuses a desired capacity outside the group's
// minimum and maximum with a ValidationError (the fake does too), so the
// handler scales to the minimum, or does nothing at it.
func TestWarmBufferIsTheFloor(t *testing.T) {
	fake := fakeaws.NewAutoScaling(t,
		fakeaws.Group{Name: "asg-warm", Min: 1, Max: 10, Desired: 3, Tags: map[string]string{"Stage": "staging"}},
		fakeaws.Group{Name: "asg-at-min", Min: 2, Max: 10, Desired: 2, Tags: map[string]string{"Stage": "staging"}},
	)
	logs := &bytes.Buffer{}
	h := &handler{env: environment{Stage: "staging", FleetASGs: map[string]string{"gpu-warm": "asg-warm", "gpu-min": "asg-at-min"}},
		asg: autoscaling.NewFromConfig(fakeaws.Config(fake.Server.URL)), log: slog.New(slog.NewJSONHandler(logs, nil))}
	require.NoError(t, h.Handle(t.Context(), snsEvent(
		alarmJSON(t, "ALARM", "ComfyUI/Workers", "QueueDepth", map[string]string{"FleetSlug": "gpu-warm", "Stage": "staging"}),
		alarmJSON(t, "ALARM", "ComfyUI/Workers", "QueueDepth", map[string]string{"FleetSlug": "gpu-min", "Stage": "staging"}),
	)))
	g, _ := fake.Group("asg-warm")
	assert.Equal(t, 1, g.Desired)
	calls := fake.CallsNamed("SetDesiredCapacity")
	require.Len(t, calls, 1)
	assert.Equal(t, "1", calls[0].Params.Get("DesiredCapacity"))
	assert.Contains(t, logs.String(), "already at the group's minimum (warm buffer)")
}
