package main

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// These tests run the built preflight against moto_server with the fixture
// assembly, the way `make deploy STAGE=staging` runs it.

func fixtureArgs(cdkOut string, extra ...string) []string {
	return append([]string{"--cdk-out", cdkOut, "--stage", "staging"}, extra...)
}

func TestEverythingPresentPasses(t *testing.T) {
	srv := motoServer(t)
	newSeed(t, srv).bootstrapped().ami().repos().pushed()

	r := runPreflight(t, awsEnv(motoEndpoints(srv.URL)), fixtureArgs(fixture)...)

	assert.Equal(t, 0, r.code)
	assert.Empty(t, r.stderr)
	// One summary line: two distinct parameters (bootstrap version, fleet
	// AMI) and three images (php-latest, nginx-latest, latest).
	assert.Equal(t, "preflight: staging OK: stacks network data compute gpu-fleet observability; 2 SSM parameter(s) and 3 image(s) present in account 111111111111\n", r.stdout)
}

func TestMissingAMIParameterNamesTheParameterAndTheAMIBuild(t *testing.T) {
	srv := motoServer(t)
	newSeed(t, srv).bootstrapped().repos().pushed()

	r := runPreflight(t, awsEnv(motoEndpoints(srv.URL)), fixtureArgs(fixture)...)

	assert.Equal(t, 1, r.code)
	require.Len(t, r.problems(), 1)
	assert.Equal(t, "gpu-fleet: fleet launch template bp-staging-gpu-default needs SSM parameter /bp/ami/fleets/staging/gpu-default (no AMI yet): "+
		"build and publish one with `make ami-build STAGE=staging FLEET=gpu-default` (fill in packer/vars/staging-gpu-default.pkrvars.hcl first, as packer/README.md describes), "+
		"then re-run `make deploy STAGE=staging`; or deploy the stacks before it: `make deploy STAGE=staging STACKS=\"network data compute\"`",
		r.problems()[0])
	assert.Contains(t, r.stderr, "preflight: staging: 1 problem(s)")
}

func TestAMIParameterThatHoldsNoAMIIsAProblem(t *testing.T) {
	srv := motoServer(t)
	newSeed(t, srv).bootstrapped().repos().pushed().param(amiParam, "none")

	r := runPreflight(t, awsEnv(motoEndpoints(srv.URL)), fixtureArgs(fixture)...)

	assert.Equal(t, 1, r.code)
	require.Len(t, r.problems(), 1)
	assert.Contains(t, r.problems()[0], `gpu-fleet: fleet launch template bp-staging-gpu-default reads SSM parameter /bp/ami/fleets/staging/gpu-default, which holds "none", not an AMI id`)
}

func TestMissingImageTagNamesRepoTagAndBothFixes(t *testing.T) {
	srv := motoServer(t)
	newSeed(t, srv).bootstrapped().ami().repos().
		image(backendRepo, "php-latest").image(frontendRepo, "latest") // no nginx-latest

	r := runPreflight(t, awsEnv(motoEndpoints(srv.URL)), fixtureArgs(fixture)...)

	assert.Equal(t, 1, r.code)
	require.Len(t, r.problems(), 1)
	line := r.problems()[0]
	assert.True(t, strings.HasPrefix(line, "compute: service bp-staging-backend (container nginx) needs image bp-backend-staging:nginx-latest, which is not in repository bp-backend-staging: "), line)
	// The push, for the task definition's platform (ARM64), and the first-deploy alternative.
	assert.Contains(t, line, "`docker buildx build --platform linux/arm64 --push -t 111111111111.dkr.ecr.us-east-1.amazonaws.com/bp-backend-staging:nginx-latest <build context>`")
	assert.Contains(t, line, "`make deploy STAGE=staging CDK_CONTEXT='-c cluster.servicesStartAtZero=true'`")
}

// The first deploy: nothing in AWS but the bootstrap and the AMI. The data
// stack creates the repositories in this very deploy, so compute would wait
// for images that nobody has pushed yet.
func TestRepositoriesCreatedByThisDeployAreAProblemForCompute(t *testing.T) {
	srv := motoServer(t)
	newSeed(t, srv).bootstrapped().ami()

	r := runPreflight(t, awsEnv(motoEndpoints(srv.URL)), fixtureArgs(fixture)...)

	assert.Equal(t, 1, r.code)
	require.Len(t, r.problems(), 2, "one line per repository")
	assert.True(t, strings.HasPrefix(r.problems()[0], "compute: service bp-staging-backend needs bp-backend-staging:php-latest, bp-backend-staging:nginx-latest, but repository bp-backend-staging (stack data) does not exist yet: it will be created by this deploy"), r.problems()[0])
	assert.True(t, strings.HasPrefix(r.problems()[1], "compute: service bp-staging-frontend needs bp-frontend-staging:latest, but repository bp-frontend-staging (stack data) does not exist yet"), r.problems()[1])
	for _, l := range r.problems() {
		assert.Contains(t, l, "deploy network+data first (`make deploy STAGE=staging STACKS=\"network data\"`), push, then the rest (`make deploy STAGE=staging`), or use -c cluster.servicesStartAtZero=true")
	}
	// compute and observability (which depends on it) wait; the rest need none of it.
	assert.Contains(t, r.stderr, "preflight: stacks that need none of it can deploy now: `make deploy STAGE=staging STACKS=\"network data gpu-fleet\"`\n")
}

// -c cluster.servicesStartAtZero=true synthesizes the services with
// DesiredCount 0 (as in `cdk synth -c stage=staging -c
// cluster.servicesStartAtZero=true`): no task starts, nothing is pulled, so
// empty or missing repositories do not block the deploy.
func TestServicesAtDesiredCountZeroSkipTheImageCheck(t *testing.T) {
	srv := motoServer(t)
	newSeed(t, srv).bootstrapped().ami() // no repositories, no images
	cdkOut := copyFixture(t, map[string]func(map[string]any){computeTemplate: func(doc map[string]any) {
		svcs := resources(doc, "AWS::ECS::Service")
		require.Len(t, svcs, 2)
		for _, svc := range svcs {
			svc["Properties"].(map[string]any)["DesiredCount"] = 0
		}
	}})

	r := runPreflight(t, awsEnv(motoEndpoints(srv.URL)), fixtureArgs(cdkOut)...)

	assert.Equal(t, 0, r.code)
	assert.Empty(t, r.stderr)
	for _, want := range []string{
		"preflight: skipped: compute: service bp-staging-backend has DesiredCount 0 (cluster.servicesStartAtZero): image bp-backend-staging:php-latest not checked",
		"preflight: skipped: compute: service bp-staging-backend has DesiredCount 0 (cluster.servicesStartAtZero): image bp-backend-staging:nginx-latest not checked",
		"preflight: skipped: compute: service bp-staging-frontend has DesiredCount 0 (cluster.servicesStartAtZero): image bp-frontend-staging:latest not checked",
		"2 SSM parameter(s) and 0 image(s) present",
	} {
		assert.Contains(t, r.stdout, want)
	}
}

// STACKS="network data compute" deploys no launch template, so a missing AMI
// does not matter; STACKS=observability pulls gpu-fleet in (cdk deploy
// deploys a selection's dependencies), so it does.
func TestStacksSubsetChecksOnlyWhatItDeploys(t *testing.T) {
	srv := motoServer(t)
	newSeed(t, srv).bootstrapped().repos().pushed() // no AMI

	r := runPreflight(t, awsEnv(motoEndpoints(srv.URL)), fixtureArgs(fixture, "--stacks", "network data compute")...)
	assert.Equal(t, 0, r.code)
	assert.Contains(t, r.stdout, "preflight: staging OK: stacks network data compute; 1 SSM parameter(s) and 3 image(s)")

	r = runPreflight(t, awsEnv(motoEndpoints(srv.URL)), fixtureArgs(fixture, "--stacks", "network data")...)
	assert.Equal(t, 0, r.code)
	assert.Contains(t, r.stdout, "stacks network data; 1 SSM parameter(s) and 0 image(s)")

	r = runPreflight(t, awsEnv(motoEndpoints(srv.URL)), fixtureArgs(fixture, "--stacks", "observability")...)
	assert.Equal(t, 1, r.code)
	require.Len(t, r.problems(), 1)
	assert.Contains(t, r.problems()[0], "gpu-fleet: fleet launch template bp-staging-gpu-default needs SSM parameter /bp/ami/fleets/staging/gpu-default")
	assert.Contains(t, r.problems()[0], "re-run `make deploy STAGE=staging STACKS=\"observability\"`")
}

func TestUnknownStackIsAUsageError(t *testing.T) {
	r := runPreflight(t, awsEnv(nil), fixtureArgs(fixture, "--stacks", "network gpu")...)
	assert.Equal(t, 2, r.code)
	assert.Contains(t, r.stderr, `stage staging has no stack "gpu" (have: network data compute gpu-fleet observability)`)
}

func TestNotBootstrappedNamesCDKBootstrap(t *testing.T) {
	srv := motoServer(t)
	newSeed(t, srv).ami().repos().pushed()

	r := runPreflight(t, awsEnv(motoEndpoints(srv.URL)), fixtureArgs(fixture)...)

	assert.Equal(t, 1, r.code)
	require.Len(t, r.problems(), 1, "one line for the five stacks that read it")
	assert.Equal(t, "network, data, compute, gpu-fleet, observability: template parameter BootstrapVersion needs SSM parameter /cdk-bootstrap/hnb659fds/version "+
		"(aws://111111111111/us-east-1 is not bootstrapped for CDK): run `.tools/node_modules/.bin/cdk bootstrap aws://111111111111/us-east-1`, then re-run `make deploy STAGE=staging`",
		r.problems()[0])
}

func TestNoCredentialsIsReportedAndFails(t *testing.T) {
	env := []string{}
	for _, kv := range awsEnv(nil) {
		if !strings.HasPrefix(kv, "AWS_ACCESS_KEY_ID=") && !strings.HasPrefix(kv, "AWS_SECRET_ACCESS_KEY=") {
			env = append(env, kv)
		}
	}
	r := runPreflight(t, env, fixtureArgs(fixture)...)

	assert.Equal(t, 1, r.code)
	require.Len(t, r.problems(), 1)
	assert.True(t, strings.HasPrefix(r.problems()[0], "no AWS credentials: "), r.problems()[0])
	assert.Contains(t, r.problems()[0], "set AWS_PROFILE")
}

func TestCredentialsOfAnotherAccountAreRefused(t *testing.T) {
	srv := motoServer(t)
	newSeed(t, srv).bootstrapped().ami().repos().pushed()
	cdkOut := copyFixture(t, map[string]func(map[string]any){stageManifest: func(doc map[string]any) {
		for _, a := range doc["artifacts"].(map[string]any) {
			a.(map[string]any)["environment"] = "aws://222222222222/us-east-1"
		}
	}})

	r := runPreflight(t, awsEnv(motoEndpoints(srv.URL)), fixtureArgs(cdkOut)...)

	assert.Equal(t, 1, r.code)
	require.Len(t, r.problems(), 1)
	assert.Equal(t, "stage staging deploys to account 222222222222 (the stacks' environment in cdk.out), but the AWS credentials are for account 111111111111: use credentials of account 222222222222 (e.g. AWS_PROFILE=<its profile>)", r.problems()[0])
}

// SSM answers AccessDeniedException in the JSON 1.1 protocol's error shape
// (HTTP 400, body {"__type": ..., "message": ...}); STS and ECR are moto.
func TestAccessDeniedNamesTheActionAndResource(t *testing.T) {
	srv := motoServer(t)
	newSeed(t, srv).repos().pushed()
	var targets []string
	denied := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		targets = append(targets, r.Header.Get("X-Amz-Target"))
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"__type":"AccessDeniedException","message":"User: arn:aws:sts::111111111111:assumed-role/ci/x is not authorized to perform: ssm:GetParameter"}`)
	}))
	defer denied.Close()
	endpoints := motoEndpoints(srv.URL)
	endpoints["SSM"] = denied.URL

	r := runPreflight(t, awsEnv(endpoints), fixtureArgs(fixture)...)

	assert.Equal(t, 1, r.code)
	require.Len(t, r.problems(), 2)
	assert.Contains(t, r.problems()[1], "gpu-fleet: cannot check SSM parameter /bp/ami/fleets/staging/gpu-default: access denied (")
	assert.Contains(t, r.problems()[1], "the deploy credentials need ssm:GetParameter on arn:aws:ssm:us-east-1:111111111111:parameter/bp/ami/fleets/staging/gpu-default")
	assert.Contains(t, r.problems()[0], "network, data, compute, gpu-fleet, observability: cannot check SSM parameter /cdk-bootstrap/hnb659fds/version: access denied")
	assert.NotEmpty(t, targets)
	for _, target := range targets {
		assert.Equal(t, "AmazonSSM.GetParameter", target)
	}
}

// The README's first deploy, step by step, with what each step leaves in
// AWS: the preflight of every deploy in the sequence passes, in this order.
func TestFirstDeploySequencePassesStepByStep(t *testing.T) {
	srv := motoServer(t)
	s := newSeed(t, srv)
	env := awsEnv(motoEndpoints(srv.URL))

	// 1. cdk bootstrap aws://111111111111/us-east-1
	s.bootstrapped()
	// 2. make deploy STAGE=staging STACKS="network data": the data stack creates the repositories.
	r := runPreflight(t, env, fixtureArgs(fixture, "--stacks", "network data")...)
	require.Equal(t, 0, r.code)
	s.repos()
	// 3. push the images (pipeline or docker push); 4. make ami-build publishes the AMI id.
	s.pushed().ami()
	// 5. make deploy STAGE=staging
	r = runPreflight(t, env, fixtureArgs(fixture)...)
	assert.Equal(t, 0, r.code)
}

// The alternative: services at zero first, images and AMI later.
func TestFirstDeployWithServicesAtZeroPassesStepByStep(t *testing.T) {
	srv := motoServer(t)
	s := newSeed(t, srv)
	env := awsEnv(motoEndpoints(srv.URL))
	atZero := copyFixture(t, map[string]func(map[string]any){computeTemplate: func(doc map[string]any) {
		for _, svc := range resources(doc, "AWS::ECS::Service") {
			svc["Properties"].(map[string]any)["DesiredCount"] = 0
		}
	}})

	s.bootstrapped()
	// make deploy STAGE=staging STACKS="network data compute" CDK_CONTEXT='-c cluster.servicesStartAtZero=true'
	r := runPreflight(t, env, fixtureArgs(atZero, "--stacks", "network data compute")...)
	require.Equal(t, 0, r.code)
	s.repos()
	// push the images, make ami-build, then make deploy STAGE=staging (services at their minimum again)
	s.pushed().ami()
	r = runPreflight(t, env, fixtureArgs(fixture)...)
	assert.Equal(t, 0, r.code)
}
