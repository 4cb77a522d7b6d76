package main

import (
	"path/filepath"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bp/infra/internal/cfn"
)

// What the preflight will ask AWS, read offline from the fixture: the names
// are the contract names other systems use (system-facts section 1: the AMI
// pipeline's /<app>/ami/fleets/<stage>/<slug>, repositories
// <app>-backend-<stage> and <app>-frontend-<stage>, the pipeline's moving
// tags nginx-latest, php-latest and latest), and the containers are the
// backend's nginx, php-fpm, scheduler and queue-worker plus the frontend's
// nextjs.
func TestPlanOfTheFixture(t *testing.T) {
	p, err := buildPlan(fixture, "staging", "bp", "")
	require.NoError(t, err)
	assert.Empty(t, p.Problems)
	assert.Empty(t, p.Notes)

	params := map[string]bool{}
	for _, pc := range p.Params {
		params[pc.Name] = pc.AMI
		assert.Equal(t, fixtureRegion, pc.Region)
	}
	assert.Equal(t, map[string]bool{"/bp/ami/fleets/staging/gpu-default": true, "/cdk-bootstrap/hnb659fds/version": false}, params)

	images := map[string][]string{}
	for _, ic := range p.Images {
		images[ic.Service+" "+ic.Ref()] = ic.Containers
		assert.Equal(t, "data", ic.RepoStack.ShortName(), "the repositories live in the data stack")
		assert.Equal(t, "linux/arm64", ic.Platform)
	}
	assert.Equal(t, map[string][]string{
		"bp-staging-backend bp-backend-staging:php-latest":   {"storage-init", "php-fpm", "scheduler", "queue-worker"},
		"bp-staging-backend bp-backend-staging:nginx-latest": {"nginx"},
		"bp-staging-frontend bp-frontend-staging:latest":     {"nextjs"},
	}, images)
}

// The same plan from a real `make synth` when one is in the worktree (CI runs
// make synth before make test): the fixture's shapes must still be the ones
// CDK emits, for both stages.
func TestPlanOfTheSynthesizedAssembly(t *testing.T) {
	cdkOut := filepath.Join("..", "..", "cdk.out")
	stacks, err := cfn.LoadAssembly(cdkOut, "bp")
	if err != nil {
		t.Skipf("skipped: no synthesized assembly in %s (run make synth): %v", cdkOut, err)
	}
	checked := 0
	for _, stage := range []string{"staging", "production"} {
		if !slices.Contains(cfn.Stages(stacks), stage) {
			t.Logf("%s is not in %s (make synth STAGE=... wrote only some stages)", stage, cdkOut)
			continue
		}
		checked++
		p, err := buildPlan(cdkOut, stage, "bp", "")
		require.NoError(t, err)
		assert.Empty(t, p.Problems, stage)
		var names []string
		for _, pc := range p.Params {
			names = append(names, pc.Name)
		}
		assert.Contains(t, names, "/bp/ami/fleets/"+stage+"/gpu-default")
		// compute reads the NAT addresses the network stack (deployed first,
		// in the same run) writes: nothing to check beforehand.
		assert.NotContains(t, names, "/bp/"+stage+"/network/nat-egress-cidrs")
		var repos []string
		for _, ic := range p.Images {
			if !slices.Contains(repos, ic.Repo) {
				repos = append(repos, ic.Repo)
			}
		}
		slices.Sort(repos)
		assert.Equal(t, []string{"bp-backend-" + stage, "bp-frontend-" + stage}, repos, stage)
	}
	if checked == 0 {
		t.Skipf("skipped: %s has neither staging nor production", cdkOut)
	}
}

func TestParseECRImageShapes(t *testing.T) {
	repoRef := map[string]any{"Ref": "Repo"}
	join := func(parts ...any) map[string]any { return map[string]any{"Fn::Join": []any{"", parts}} }
	prefix := []any{"111111111111", ".dkr.ecr.", "us-east-1", ".", map[string]any{"Ref": "AWS::URLSuffix"}, "/"}

	img, isECR, err := parseECRImage(join(append(slices.Clone(prefix), repoRef, ":php-abc1234")...))
	require.NoError(t, err)
	assert.True(t, isECR)
	assert.Equal(t, "php-abc1234", img.tag)

	img, _, err = parseECRImage(join(append(slices.Clone(prefix), repoRef, "@sha256:", "abc")...))
	require.NoError(t, err)
	assert.Equal(t, "sha256:abc", img.digest)

	_, isECR, _ = parseECRImage("public.ecr.aws/nginx/nginx:1.27")
	assert.False(t, isECR, "a literal image is not one of the app's repositories")

	_, isECR, err = parseECRImage(join(append(slices.Clone(prefix), repoRef, map[string]any{"Ref": "TagParam"})...))
	assert.True(t, isECR)
	assert.ErrorContains(t, err, "not a literal", "an ECR image the preflight cannot read is reported, not skipped")
}

// A launch template whose ImageId is a Ref to a plain String SSM template
// parameter still needs an AMI id in that parameter, although the type says
// only String. That shape is ssm.StringParameter.valueForStringParameter's
// (AWS::SSM::Parameter::Value<String>); ec2.MachineImage.fromSsmParameter
// types its parameter AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>
// (aws-cdk-lib 2.276 aws-ec2/lib/machine-image/utils.js, lookupImage), which
// amiParamTypes covers, and our fleets use {{resolve:ssm:...}}.
func TestImageIdFromAStringParameterMustHoldAnAMI(t *testing.T) {
	s := cfn.Stack{Name: "bp-staging-gpu-fleet", Region: fixtureRegion, Template: &cfn.Template{
		Parameters: map[string]cfn.Parameter{
			"FleetImage": {Type: "AWS::SSM::Parameter::Value<String>", Default: "/bp/ami/fleets/staging/gpu-other"},
			"Other":      {Type: "AWS::SSM::Parameter::Value<String>", Default: "/bp/staging/other"},
		},
		Resources: map[string]cfn.Resource{"Lt": {Type: "AWS::EC2::LaunchTemplate", Properties: map[string]any{
			"LaunchTemplateData": map[string]any{"ImageId": map[string]any{"Ref": "FleetImage"}},
		}}},
	}}
	var p plan
	p.collectParams(s)
	got := map[string]bool{}
	for _, pc := range p.Params {
		got[pc.Name] = pc.AMI
	}
	assert.Equal(t, map[string]bool{"/bp/ami/fleets/staging/gpu-other": true, "/bp/staging/other": false}, got)
}
