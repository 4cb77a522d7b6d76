package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/stretchr/testify/require"

	"github.com/bp/infra/internal/keptbuild"
	"github.com/bp/infra/internal/modroot"
	"github.com/bp/infra/internal/moto"
)

// The fixture is a trimmed copy of `make synth STAGE=staging` (see
// testdata/trim-assembly.sh); its stacks deploy to this account and region.
const (
	fixture        = "testdata/cdk.out"
	fixtureAccount = "111111111111"
	fixtureRegion  = "us-east-1"
)

var (
	binPath string // the preflight binary, built once by TestMain
	// shared is the tests' moto_server, as account fixtureAccount; TestMain
	// starts it while the binary builds (a second or so each).
	shared = &moto.Shared{Env: []string{"MOTO_ACCOUNT_ID=" + fixtureAccount}, Warm: warmMoto}
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "preflight-test-")
	if err != nil {
		panic(err)
	}
	shared.Prestart()
	binPath = filepath.Join(dir, "preflight")
	root, err := modroot.Find()
	if err != nil {
		panic(err)
	}
	err = keptbuild.Build(context.Background(), root, "preflight", binPath, func(target string) []string {
		return []string{"go", "build", "-o", target, "."} // kept: linked only when it changed
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "go build ./tools/preflight: %v\n", err)
		shared.Stop()
		os.Exit(1)
	}
	code := m.Run()
	shared.Stop()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// warmMoto makes one call to each service the preflight uses: moto loads a
// service's backend on its first request (SSM's takes most of a second),
// which this way happens while the binary builds. Errors do not matter here;
// each test resets the state.
func warmMoto(srv *moto.Server) {
	cfg := motoConfig(srv)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, _ = ssm.NewFromConfig(cfg).DescribeParameters(ctx, &ssm.DescribeParametersInput{})
	_, _ = ecr.NewFromConfig(cfg).DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{})
	_, _ = sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
}

// motoServer returns the shared moto_server after resetting its state.
func motoServer(t *testing.T) *moto.Server {
	t.Helper()
	s := shared.Get(t)
	require.NoError(t, s.Reset(context.Background()))
	return s
}

// awsEnv is a clean environment for the preflight: static test credentials,
// no profile files, no instance metadata, endpoints through the SDK's
// standard per-service variables, and no AWS_REGION (it must come from the
// stacks' environment in cdk.out).
func awsEnv(endpoints map[string]string) []string {
	env := []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + os.TempDir(),
		"AWS_ACCESS_KEY_ID=testing",
		"AWS_SECRET_ACCESS_KEY=testing",
		"AWS_CONFIG_FILE=/nonexistent/config",
		"AWS_SHARED_CREDENTIALS_FILE=/nonexistent/credentials",
		"AWS_EC2_METADATA_DISABLED=true",
	}
	for svc, url := range endpoints {
		env = append(env, "AWS_ENDPOINT_URL_"+svc+"="+url)
	}
	return env
}

func motoEndpoints(url string) map[string]string {
	return map[string]string{"SSM": url, "ECR": url, "STS": url}
}

type runResult struct {
	code           int
	stdout, stderr string
}

// problems are the problem lines (everything on stderr but the final summary).
func (r runResult) problems() []string {
	var out []string
	for _, l := range strings.Split(strings.TrimSpace(r.stderr), "\n") {
		if l != "" && !strings.HasPrefix(l, "preflight: ") {
			out = append(out, l)
		}
	}
	return out
}

// runPreflight runs the built binary as make deploy does.
func runPreflight(t *testing.T, env []string, args ...string) runResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binPath, args...)
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		require.True(t, ok, "run preflight: %v", err)
		code = ee.ExitCode()
	}
	r := runResult{code: code, stdout: stdout.String(), stderr: stderr.String()}
	t.Logf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	return r
}

// motoConfig is moto's client config in the fixture's region.
func motoConfig(srv *moto.Server) aws.Config {
	cfg := srv.Config()
	cfg.Region = fixtureRegion
	return cfg
}

// seed writes AWS state through the SDK, as `cdk bootstrap`, the AMI
// pipeline and the image pipeline would.
type seed struct {
	t   *testing.T
	ssm *ssm.Client
	ecr *ecr.Client
}

func newSeed(t *testing.T, srv *moto.Server) *seed {
	cfg := motoConfig(srv)
	return &seed{
		t:   t,
		ssm: ssm.NewFromConfig(cfg),
		ecr: ecr.NewFromConfig(cfg),
	}
}

func (s *seed) param(name, value string) *seed {
	_, err := s.ssm.PutParameter(context.Background(), &ssm.PutParameterInput{Name: aws.String(name), Value: aws.String(value), Type: ssmtypes.ParameterTypeString})
	require.NoError(s.t, err)
	return s
}

func (s *seed) repo(name string) *seed {
	_, err := s.ecr.CreateRepository(context.Background(), &ecr.CreateRepositoryInput{RepositoryName: aws.String(name)})
	require.NoError(s.t, err)
	return s
}

// manifest is the example image manifest of the Docker Image Manifest V2,
// Schema 2 specification (distribution/docs/spec/manifest-v2-2.md); each tag
// gets its own config digest so that every push is a distinct image.
const manifest = `{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json",` +
	`"config":{"mediaType":"application/vnd.docker.container.image.v1+json","size":7023,"digest":"sha256:%x"},` +
	`"layers":[{"mediaType":"application/vnd.docker.image.rootfs.diff.tar.gzip","size":32654,"digest":"sha256:e692418e4cbaf90ca69d05a66403747baa33ee08806650b51fab815ad7fc331f"}]}`

func (s *seed) image(repo, tag string) *seed {
	body := fmt.Sprintf(manifest, sha256.Sum256([]byte(repo+":"+tag)))
	_, err := s.ecr.PutImage(context.Background(), &ecr.PutImageInput{RepositoryName: aws.String(repo), ImageTag: aws.String(tag), ImageManifest: aws.String(body)})
	require.NoError(s.t, err)
	return s
}

// The state a stage has after bootstrap, an AMI build and an image push:
// bootstrap version (the value `cdk bootstrap` writes is its version number),
// the fleet's AMI id and the tags the pipeline pushes (system-facts: backend
// repo nginx-latest and php-latest, frontend repo latest).
const (
	bootstrapParam = "/cdk-bootstrap/hnb659fds/version"
	amiParam       = "/bp/ami/fleets/staging/gpu-default"
	backendRepo    = "bp-backend-staging"
	frontendRepo   = "bp-frontend-staging"
)

func (s *seed) bootstrapped() *seed { return s.param(bootstrapParam, "30") }
func (s *seed) ami() *seed          { return s.param(amiParam, "ami-0123456789abcdef0") }
func (s *seed) repos() *seed        { return s.repo(backendRepo).repo(frontendRepo) }
func (s *seed) pushed() *seed {
	return s.image(backendRepo, "nginx-latest").image(backendRepo, "php-latest").image(frontendRepo, "latest")
}

// copyFixture copies the fixture assembly to a temp dir and lets edit change
// the JSON of files in it (paths relative to the assembly root).
func copyFixture(t *testing.T, edits map[string]func(map[string]any)) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "cdk.out")
	require.NoError(t, os.CopyFS(dst, os.DirFS(fixture)))
	for rel, edit := range edits {
		path := filepath.Join(dst, rel)
		raw, err := os.ReadFile(path)
		require.NoError(t, err)
		var doc map[string]any
		require.NoError(t, json.Unmarshal(raw, &doc))
		edit(doc)
		raw, err = json.MarshalIndent(doc, "", " ")
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(path, raw, 0o644))
	}
	return dst
}

const (
	computeTemplate = "assembly-staging/stagingcompute69A22C32.template.json"
	stageManifest   = "assembly-staging/manifest.json"
)

// resources of one type in a template document.
func resources(doc map[string]any, typ string) []map[string]any {
	var out []map[string]any
	for _, r := range doc["Resources"].(map[string]any) {
		res := r.(map[string]any)
		if res["Type"] == typ {
			out = append(out, res)
		}
	}
	return out
}
