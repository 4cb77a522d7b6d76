package asgops_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/bp/infra/internal/fakeaws"
	"github.com/bp/infra/lambdas/internal/asgops"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDescribeTagsAndBatchedClear(t *testing.T) {
	var instances []fakeaws.Instance
	for i := range 120 {
		instances = append(instances, fakeaws.Instance{ID: fmt.Sprintf("i-%03d", i), LifecycleState: "InService", Protected: i%2 == 0})
	}
	instances = append(instances, fakeaws.Instance{ID: "i-pending", LifecycleState: "Pending", Protected: true})
	fake := fakeaws.NewAutoScaling(t, fakeaws.Group{Name: "asg-a", Max: 200, Tags: map[string]string{"Stage": "staging"}, Instances: instances})
	api := autoscaling.NewFromConfig(fakeaws.Config(fake.Server.URL))
	ctx := context.Background()

	g, err := asgops.Describe(ctx, api, "asg-a")
	require.NoError(t, err)
	require.NotNil(t, g)
	require.NoError(t, asgops.CheckStage(g, "staging"))
	assert.ErrorContains(t, asgops.CheckStage(g, "production"), `belongs to stage "staging"`)

	inService := asgops.ProtectedInstances(g, true)
	assert.Len(t, inService, 60)
	assert.Len(t, asgops.ProtectedInstances(g, false), 61)

	require.NoError(t, asgops.ClearProtection(ctx, api, "asg-a", inService))
	calls := fake.CallsNamed("SetInstanceProtection")
	require.Len(t, calls, 2, "60 ids need two calls of at most 50")
	after, _ := fake.Group("asg-a")
	for _, in := range after.Instances {
		assert.Equal(t, in.ID == "i-pending", in.Protected, in.ID)
	}

	missing, err := asgops.Describe(ctx, api, "asg-gone")
	require.NoError(t, err)
	assert.Nil(t, missing)

	fake.Fail("DescribeAutoScalingGroups", "Throttling")
	_, err = asgops.Describe(ctx, api, "asg-a")
	assert.ErrorContains(t, err, "Throttling")
}
