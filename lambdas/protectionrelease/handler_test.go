package protectionrelease

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/bp/infra/internal/fakeaws"
	"github.com/bp/infra/lambdas/internal/cfnresponse"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type fixture struct {
	asg    *fakeaws.AutoScaling
	url    *fakeaws.ResponseURL
	runner cfnresponse.Runner
	n      int
}

func newFixture(t *testing.T, groups ...fakeaws.Group) *fixture {
	f := &fixture{asg: fakeaws.NewAutoScaling(t, groups...), url: fakeaws.NewResponseURL(t)}
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	h := &handler{asg: autoscaling.NewFromConfig(fakeaws.Config(f.asg.Server.URL)), log: log}
	f.runner = cfnresponse.Runner{Handler: h.Handle, Log: log, Sender: cfnresponse.Sender{Attempts: 2, Backoff: time.Millisecond}}
	return f
}

func (f *fixture) run(t *testing.T, requestType, physicalID string, asgNames ...string) map[string]any {
	t.Helper()
	f.n++
	names := make([]any, len(asgNames))
	for i, n := range asgNames {
		names[i] = n
	}
	req := cfnresponse.Request{
		RequestType: requestType, ResponseURL: f.url.URL(), RequestID: fmt.Sprintf("req-%d", f.n),
		StackID:           "arn:aws:cloudformation:us-east-1:123456789012:stack/bp-staging-gpu/1",
		LogicalResourceID: "GpuDefaultProtectionRelease", PhysicalResourceID: physicalID,
		ResourceType:       "Custom::ProtectionRelease",
		ResourceProperties: map[string]any{"ServiceToken": "arn:aws:lambda:x", "AsgNames": names},
	}
	require.NoError(t, f.runner.Handle(context.Background(), req))
	body := f.url.Last(t).Decode(t)
	require.Equal(t, req.RequestID, body["RequestId"])
	return body
}

func instances(prefix string, n int, protected bool) []fakeaws.Instance {
	var out []fakeaws.Instance
	for i := range n {
		out = append(out, fakeaws.Instance{ID: fmt.Sprintf("%s-%02d", prefix, i), LifecycleState: "InService", Protected: protected})
	}
	return out
}

func TestCreateAndUpdateAreNoOpsWithStableID(t *testing.T) {
	f := newFixture(t, fakeaws.Group{Name: "asg-a", Max: 10, Instances: instances("i-a", 2, true)})
	created := f.run(t, "Create", "", "asg-a")
	assert.Equal(t, "SUCCESS", created["Status"])
	assert.Equal(t, "protection-release-GpuDefaultProtectionRelease", created["PhysicalResourceId"])

	updated := f.run(t, "Update", created["PhysicalResourceId"].(string), "asg-a", "asg-b")
	assert.Equal(t, "SUCCESS", updated["Status"])
	assert.Equal(t, created["PhysicalResourceId"], updated["PhysicalResourceId"], "adding a fleet must not replace the resource")
	assert.Empty(t, f.asg.Calls(), "Create and Update never call Auto Scaling")
}

func TestDeleteClearsProtectionOnEveryGroupInBatches(t *testing.T) {
	f := newFixture(t,
		fakeaws.Group{Name: "asg-a", Max: 200, Instances: append(instances("i-a", 75, true), instances("i-free", 2, false)...)},
		fakeaws.Group{Name: "asg-b", Max: 10, Instances: []fakeaws.Instance{{ID: "i-b", LifecycleState: "Pending", Protected: true}}},
	)
	body := f.run(t, "Delete", "protection-release-GpuDefaultProtectionRelease", "asg-a", "asg-gone", "asg-b")
	assert.Equal(t, "SUCCESS", body["Status"], body["Reason"])
	assert.Equal(t, "protection-release-GpuDefaultProtectionRelease", body["PhysicalResourceId"])

	for _, name := range []string{"asg-a", "asg-b"} {
		g, _ := f.asg.Group(name)
		for _, in := range g.Instances {
			assert.False(t, in.Protected, in.ID)
		}
	}
	calls := f.asg.CallsNamed("SetInstanceProtection")
	require.Len(t, calls, 3, "75 ids -> 50 + 25, plus one for asg-b")
	assert.Equal(t, "asg-a", calls[0].Params.Get("AutoScalingGroupName"))
	assert.Equal(t, "i-a-49", calls[0].Params.Get("InstanceIds.member.50"))
	assert.Equal(t, "", calls[0].Params.Get("InstanceIds.member.51"))
}

func TestDeleteReportsAPIFailure(t *testing.T) {
	f := newFixture(t, fakeaws.Group{Name: "asg-a", Max: 10, Instances: instances("i-a", 1, true)})
	f.asg.Fail("SetInstanceProtection", "AccessDenied")
	body := f.run(t, "Delete", "protection-release-x", "asg-a")
	assert.Equal(t, "FAILED", body["Status"])
	assert.Contains(t, body["Reason"], "AccessDenied")
	assert.Len(t, f.asg.CallsNamed("SetInstanceProtection"), 2, "one re-read and retry")
}

func TestCreateWithoutNamesFails(t *testing.T) {
	f := newFixture(t)
	body := f.run(t, "Create", "")
	assert.Equal(t, "FAILED", body["Status"])
	assert.Contains(t, body["Reason"], "AsgNames")
	assert.NotEmpty(t, body["PhysicalResourceId"])
}
