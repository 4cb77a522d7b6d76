package cfn

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestResolverParametersConditionsAndIf(t *testing.T) {
	tpl := &Template{
		Parameters: map[string]Parameter{
			"Stage":  {Type: "String", Default: "production"},
			"AmiId":  {Type: "AWS::SSM::Parameter::Value<String>", Default: "/bp/ami/fleets/production/gpu-default"},
			"NoDflt": {Type: "String"},
		},
		Conditions: map[string]any{
			"IsProd":    map[string]any{"Fn::Equals": []any{map[string]any{"Ref": "Stage"}, "production"}},
			"IsNotProd": map[string]any{"Fn::Not": []any{map[string]any{"Condition": "IsProd"}}},
		},
	}
	r := Resolver{T: tpl, Pseudo: map[string]any{"AWS::Region": "us-east-1"}}

	cls, err := r.String(map[string]any{"Fn::If": []any{"IsProd", "db.t4g.medium", "db.t4g.small"}})
	require.NoError(t, err)
	assert.Equal(t, "db.t4g.medium", cls)
	n, err := r.Number(map[string]any{"Fn::If": []any{"IsNotProd", "1", "2"}})
	require.NoError(t, err)
	assert.Equal(t, 2.0, n)

	// An SSM-typed parameter's default is the parameter name, not its value.
	_, err = r.String(map[string]any{"Ref": "AmiId"})
	var u *ErrUnresolved
	assert.ErrorAs(t, err, &u)
	_, err = r.String(map[string]any{"Ref": "NoDflt"})
	assert.ErrorAs(t, err, &u)
	_, err = r.Number(map[string]any{"Fn::GetAtt": []any{"Db", "Endpoint.Port"}})
	assert.ErrorAs(t, err, &u)

	region, err := r.String(map[string]any{"Ref": "AWS::Region"})
	require.NoError(t, err)
	assert.Equal(t, "us-east-1", region)

	// Lists of intrinsics count; a list made by an intrinsic does not.
	c, err := r.Count([]any{map[string]any{"Fn::ImportValue": "a"}, map[string]any{"Ref": "B"}})
	require.NoError(t, err)
	assert.Equal(t, 2, c)
	_, err = r.Count(map[string]any{"Fn::Split": []any{",", map[string]any{"Fn::ImportValue": "x"}}})
	assert.ErrorAs(t, err, &u)
}

func TestCollectRefs(t *testing.T) {
	v := map[string]any{
		"A": map[string]any{"Ref": "Topic"},
		"B": []any{map[string]any{"Fn::GetAtt": []any{"Bucket", "Arn"}}, map[string]any{"Fn::GetAtt": "Fn.Arn"}},
		"C": map[string]any{"Fn::Sub": "arn:${AWS::Partition}:x:${Queue.Arn}:${!Literal}"},
		"D": map[string]any{"Fn::ImportValue": "bp-staging-network:ExportsOutputRefVpc"},
		"E": "{{resolve:ssm:/bp/staging/fleets/gpu-default/active_bundle}}",
	}
	got := CollectRefs(v)
	assert.Equal(t, []string{"AWS::Partition", "Bucket", "Fn", "Queue", "Topic"}, got.IDs)
	assert.Equal(t, []string{"bp-staging-network:ExportsOutputRefVpc"}, got.Imports)
	assert.Equal(t, []string{"/bp/staging/fleets/gpu-default/active_bundle"}, got.SSM)
}

func TestStageFromNames(t *testing.T) {
	assert.Equal(t, "staging", stageFromNames("staging/bp-staging-data", "bp-staging-data", "bp"))
	assert.Equal(t, "production", stageFromNames("", "bp-production-network", "bp"))
	assert.Equal(t, DefaultStage, stageFromNames("", "OtherStack", "bp"))
}

func TestParseEnvironment(t *testing.T) {
	acct, region := parseEnvironment("aws://111111111111/us-east-1")
	assert.Equal(t, "111111111111", acct)
	assert.Equal(t, "us-east-1", region)
	acct, region = parseEnvironment("aws://unknown-account/unknown-region")
	assert.Empty(t, acct)
	assert.Empty(t, region)
}

// The dependencies are the ones `cdk synth` wrote for the staging stages
// (asset manifests included); a selection pulls in what it depends on, and
// dependencies come first.
func TestWithDependencies(t *testing.T) {
	all := []Stack{
		{ArtifactID: "compute", DisplayName: "staging/compute", Dependencies: []string{"data", "network", "compute.assets"}},
		{ArtifactID: "data", DisplayName: "staging/data", Dependencies: []string{"network", "data.assets"}},
		{ArtifactID: "gpu", DisplayName: "staging/gpu-fleet", Dependencies: []string{"data", "network"}},
		{ArtifactID: "network", DisplayName: "staging/network", Dependencies: []string{"network.assets"}},
		{ArtifactID: "obs", DisplayName: "staging/observability", Dependencies: []string{"network", "data", "compute", "gpu"}},
	}
	names := func(stacks []Stack) []string {
		var out []string
		for _, s := range stacks {
			out = append(out, s.ShortName())
		}
		return out
	}
	assert.Equal(t, []string{"network", "data", "compute"}, names(WithDependencies(all, all[:1])))
	assert.Equal(t, []string{"network"}, names(WithDependencies(all, all[3:4])))
	assert.Equal(t, []string{"network", "data", "compute", "gpu-fleet", "observability"}, names(WithDependencies(all, all[4:])))
}
