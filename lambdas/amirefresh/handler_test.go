package amirefresh

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/bp/infra/internal/fakeaws"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	param     = "/bp/ami/fleets/staging/gpu-default"
	asgName   = "bp-staging-gpu-default"
	oldAMI    = "ami-0aaaaaaaaaaaaaaa1"
	newAMI    = "ami-0bbbbbbbbbbbbbbb2"
	prodParam = "/bp/ami/fleets/production/gpu-default"
)

// parameterChange is the Systems Manager User Guide's example "Parameter
// Store Change" event, with our parameter's name and region.
func parameterChange(name, operation string) json.RawMessage {
	return json.RawMessage(`{
  "version": "0",
  "id": "9547ef2d-3b7e-4057-b6cb-5fdf09ee7c8f",
  "detail-type": "Parameter Store Change",
  "source": "aws.ssm",
  "account": "123456789012",
  "time": "2017-05-22T16:44:48Z",
  "region": "us-east-1",
  "resources": ["arn:aws:ssm:us-east-1:123456789012:parameter` + name + `"],
  "detail": {"operation": "` + operation + `", "name": "` + name + `", "type": "String", "description": "Sample Parameter"}
}`)
}

// The failure notice of a put with data type aws:ec2:image (Systems Manager
// User Guide, "Native parameter support for Amazon Machine Image IDs").
func failedPut(name string) json.RawMessage {
	return json.RawMessage(`{"version": "0", "id": "eed4a719-0fa4-6a49-80d8-8ac65EXAMPLE", "detail-type": "Parameter Store Change",
  "source": "aws.ssm", "account": "111122223333", "time": "2020-05-26T22:04:42Z", "region": "us-east-2",
  "resources": ["arn:aws:ssm:us-east-2:111122223333:parameter` + name + `"],
  "detail": {"exception": "Unable to Describe Resource", "dataType": "aws:ec2:image", "name": "` + name + `", "type": "String", "operation": "Create"}}`)
}

var scheduled = json.RawMessage(`{"version": "0", "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa", "detail-type": "Scheduled Event",
  "source": "aws.events", "account": "123456789012", "time": "2026-11-27T12:00:00Z", "region": "us-east-1",
  "resources": ["arn:aws:events:us-east-1:123456789012:rule/x"], "detail": {}}`)

type fixture struct {
	asg  *fakeaws.AutoScaling
	ec2  *fakeaws.EC2
	ssm  *fakeaws.SSM
	h    *handler
	logs *bytes.Buffer
}

func newFixture(t *testing.T, groups []fakeaws.Group, instances ...fakeaws.EC2Instance) *fixture {
	f := &fixture{asg: fakeaws.NewAutoScaling(t, groups...), ec2: fakeaws.NewEC2(t, instances...),
		ssm: fakeaws.NewSSM(t, map[string]string{param: newAMI, prodParam: newAMI, "/bp/ami/fleets/staging/gpu-video": newAMI}), logs: &bytes.Buffer{}}
	f.asg.SetClock(func() time.Time { return time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC) })
	f.h = &handler{
		env: environment{Stage: "staging", Fleets: []fleet{
			{Slug: "gpu-default", ASGName: asgName, AmiParameter: param},
			{Slug: "gpu-video", ASGName: "bp-staging-gpu-video", AmiParameter: "/bp/ami/fleets/staging/gpu-video"},
		}},
		asg: autoscaling.NewFromConfig(fakeaws.Config(f.asg.Server.URL)),
		ec2: ec2.NewFromConfig(fakeaws.Config(f.ec2.Server.URL)),
		ssm: ssm.NewFromConfig(fakeaws.Config(f.ssm.Server.URL)),
		log: slog.New(slog.NewJSONHandler(&bytes.Buffer{}, nil)),
	}
	f.h.log = slog.New(slog.NewJSONHandler(f.logs, nil))
	return f
}

func group(name, stage string, ins ...fakeaws.Instance) fakeaws.Group {
	return fakeaws.Group{Name: name, Max: 10, Desired: len(ins), Instances: ins, Tags: map[string]string{"Stage": stage}}
}

func TestNewImageStartsARefreshThatWaitsForBusyWorkers(t *testing.T) {
	f := newFixture(t,
		[]fakeaws.Group{group(asgName, "staging",
			fakeaws.Instance{ID: "i-0busy", LifecycleState: "InService", Protected: true},
			fakeaws.Instance{ID: "i-0idle", LifecycleState: "InService"},
			fakeaws.Instance{ID: "i-0gone", LifecycleState: "Terminating"})},
		fakeaws.EC2Instance{ID: "i-0busy", ImageID: oldAMI}, fakeaws.EC2Instance{ID: "i-0idle", ImageID: oldAMI})

	require.NoError(t, f.h.Handle(t.Context(), parameterChange(param, "Update")))

	starts := f.asg.CallsNamed("StartInstanceRefresh")
	require.Len(t, starts, 1)
	p := starts[0].Params
	assert.Equal(t, asgName, p.Get("AutoScalingGroupName"))
	// Values as the Auto Scaling API Reference (RefreshPreferences) spells them:
	// ScaleInProtectedInstances Refresh | Ignore | Wait, StandbyInstances
	// Terminate | Ignore | Wait, MinHealthyPercentage 0-100, MaxHealthyPercentage 100-200.
	for k, want := range map[string]string{
		"Strategy":                              "Rolling",
		"Preferences.ScaleInProtectedInstances": "Wait",
		"Preferences.StandbyInstances":          "Ignore",
		"Preferences.MinHealthyPercentage":      "100",
		"Preferences.MaxHealthyPercentage":      "200",
		"Preferences.SkipMatching":              "false",
		"Preferences.AutoRollback":              "false",
	} {
		assert.Equal(t, want, p.Get(k), k)
	}
	assert.Empty(t, p.Get("DesiredConfiguration.LaunchTemplate.LaunchTemplateName"), "the group's own launch template: resolve:ssm picks the new image")
	assert.Equal(t, []string{param}, f.ssm.Reads())
	ec2Calls := f.ec2.Calls()
	require.Len(t, ec2Calls, 1)
	assert.Empty(t, ec2Calls[0].Params.Get("InstanceId.3"), "a terminating instance is not asked about")
	assert.Empty(t, f.asg.CallsNamed("SetInstanceProtection"))
	assert.Empty(t, f.asg.CallsNamed("SetDesiredCapacity"))
	g, _ := f.asg.Group(asgName)
	assert.True(t, g.Instances[0].Protected, "the busy worker keeps its protection")
	assert.Empty(t, f.asg.MutatingCallsFor("bp-staging-gpu-video"), "another fleet's parameter did not change")
}

func TestNothingToRefresh(t *testing.T) {
	t.Run("fleet at zero", func(t *testing.T) {
		f := newFixture(t, []fakeaws.Group{group(asgName, "staging")})
		require.NoError(t, f.h.Handle(t.Context(), parameterChange(param, "Update")))
		assert.Empty(t, f.asg.CallsNamed("StartInstanceRefresh"))
		assert.Empty(t, f.ssm.Reads())
		assert.Empty(t, f.ec2.Calls())
	})
	t.Run("already on the new image", func(t *testing.T) {
		f := newFixture(t, []fakeaws.Group{group(asgName, "staging", fakeaws.Instance{ID: "i-0new", LifecycleState: "InService"})},
			fakeaws.EC2Instance{ID: "i-0new", ImageID: newAMI})
		require.NoError(t, f.h.Handle(t.Context(), parameterChange(param, "Update")))
		assert.Empty(t, f.asg.CallsNamed("StartInstanceRefresh"))
	})
	t.Run("a refresh is running", func(t *testing.T) {
		g := group(asgName, "staging", fakeaws.Instance{ID: "i-0old", LifecycleState: "InService"})
		g.Refreshes = []fakeaws.Refresh{{ID: "r-1", Status: "InProgress"}}
		f := newFixture(t, []fakeaws.Group{g}, fakeaws.EC2Instance{ID: "i-0old", ImageID: oldAMI})
		require.NoError(t, f.h.Handle(t.Context(), parameterChange(param, "Update")))
		assert.Empty(t, f.asg.CallsNamed("StartInstanceRefresh"))
	})
	for name, ev := range map[string]json.RawMessage{
		"delete":                 parameterChange(param, "Delete"),
		"label":                  parameterChange(param, "LabelParameterVersion"),
		"failed put":             failedPut(param),
		"another stage's fleet":  parameterChange(prodParam, "Update"),
		"not an EventBridge one": json.RawMessage(`{"Records": []}`),
	} {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, []fakeaws.Group{group(asgName, "staging", fakeaws.Instance{ID: "i-0old", LifecycleState: "InService"})},
				fakeaws.EC2Instance{ID: "i-0old", ImageID: oldAMI})
			require.NoError(t, f.h.Handle(t.Context(), ev))
			assert.Empty(t, f.asg.Calls(), "no Auto Scaling call at all")
			assert.Empty(t, f.ssm.Reads())
		})
	}
}

// TestScheduleFinishesWhatARefreshLeft: a refresh that timed out waiting for
// a worker busy for over an hour leaves one old instance; the schedule
// starts another once no refresh runs, for every fleet of the stage.
func TestScheduleFinishesWhatARefreshLeft(t *testing.T) {
	g := group(asgName, "staging",
		fakeaws.Instance{ID: "i-0new", LifecycleState: "InService"},
		fakeaws.Instance{ID: "i-0old", LifecycleState: "InService", Protected: true})
	g.Refreshes = []fakeaws.Refresh{{ID: "r-1", Status: "Failed"}}
	video := group("bp-staging-gpu-video", "staging", fakeaws.Instance{ID: "i-0vid", LifecycleState: "InService"})
	f := newFixture(t, []fakeaws.Group{g, video},
		fakeaws.EC2Instance{ID: "i-0new", ImageID: newAMI}, fakeaws.EC2Instance{ID: "i-0old", ImageID: oldAMI},
		fakeaws.EC2Instance{ID: "i-0vid", ImageID: newAMI})
	require.NoError(t, f.h.Handle(t.Context(), scheduled))
	starts := f.asg.CallsNamed("StartInstanceRefresh")
	require.Len(t, starts, 1)
	assert.Equal(t, asgName, starts[0].Params.Get("AutoScalingGroupName"))
	assert.Contains(t, f.logs.String(), `"staleInstances":["i-0old"]`)
}

func TestAnotherStagesGroupIsNeverRefreshed(t *testing.T) {
	f := newFixture(t, []fakeaws.Group{
		group(asgName, "production", fakeaws.Instance{ID: "i-0old", LifecycleState: "InService"}),
		group("bp-staging-gpu-video", "staging", fakeaws.Instance{ID: "i-0vid", LifecycleState: "InService"}),
	}, fakeaws.EC2Instance{ID: "i-0old", ImageID: oldAMI}, fakeaws.EC2Instance{ID: "i-0vid", ImageID: oldAMI})
	err := f.h.Handle(t.Context(), scheduled)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `fleet gpu-default: auto scaling group bp-staging-gpu-default belongs to stage "production"`)
	assert.Empty(t, f.asg.MutatingCallsFor(asgName))
	assert.Len(t, f.asg.CallsNamed("StartInstanceRefresh"), 1, "the other fleet is still handled")
}

func TestRefreshStartedMeanwhileIsNotAnError(t *testing.T) {
	f := newFixture(t, []fakeaws.Group{group(asgName, "staging", fakeaws.Instance{ID: "i-0old", LifecycleState: "InService"})},
		fakeaws.EC2Instance{ID: "i-0old", ImageID: oldAMI})
	f.asg.Fail("StartInstanceRefresh", "InstanceRefreshInProgress")
	require.NoError(t, f.h.Handle(t.Context(), parameterChange(param, "Create")))
	f.asg.Fail("StartInstanceRefresh", "Throttling")
	require.Error(t, f.h.Handle(t.Context(), parameterChange(param, "Create")))
}

func TestLoadEnv(t *testing.T) {
	_, err := loadEnv(func(k string) string {
		return map[string]string{"STAGE": "staging", "FLEETS": `[{"slug":"a","asgName":"b","amiParameter":"/bp/ami/fleets/staging/a"}]`}[k]
	})
	require.NoError(t, err)
	_, err = loadEnv(func(k string) string {
		return map[string]string{"STAGE": "staging", "FLEETS": `[{"slug":"a","asgName":"b","amiParameter":"ami-123"}]`}[k]
	})
	assert.Error(t, err)
}
