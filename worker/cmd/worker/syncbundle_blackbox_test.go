package main_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/bp/infra/internal/moto"
	"github.com/bp/infra/internal/testtool"
	"github.com/bp/infra/internal/workerbuild"
	"github.com/bp/infra/worker/testsupport/bundletest"
)

// Quoted from the backend's bundle format (the names the AMI pipeline and
// the old installer use), never from our own constants.
const (
	bucket        = "bp-staging-models"
	param         = "/bp/staging/fleets/gpu-default/active_bundle"
	bakedFile     = ".baked_bundle_id"
	activeFile    = ".active_bundle_id"
	installedFile = ".installed_bundle_paths"
)

// startBuild starts building the real binary, as make worker does, and
// returns a func that waits for it: the build and moto_server's start (a
// second or so each) overlap.
func startBuild(t *testing.T) func() string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "worker")
	done := make(chan error, 1)
	go func() { done <- workerbuild.Build(t.Context(), bin) }()
	wait := sync.OnceValue(func() error { return <-done })
	// Registered after TempDir's removal, so it runs first: a test that
	// ends early (no moto_server) must not remove the dir under go build.
	t.Cleanup(func() { wait() })
	return func() string {
		t.Helper()
		if err := wait(); err != nil {
			t.Fatal(err)
		}
		return bin
	}
}

type fleet struct {
	t      *testing.T
	moto   *moto.Server
	s3     *s3.Client
	ssm    *ssm.Client
	worker string
	store  bundletest.Store
}

func (f *fleet) putObject(key string, body []byte) {
	f.t.Helper()
	_, err := f.s3.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(body)})
	if err != nil {
		f.t.Fatalf("put %s: %v", key, err)
	}
}

// asset uploads data content-addressed and returns its manifest entry.
func (f *fleet) asset(id int, kind string, data []byte, target, action string) bundletest.Asset {
	key, sum := f.store.Put(kind, data)
	f.putObject(key, data)
	return bundletest.Asset{AssetID: id, Kind: kind, SHA256: sum, Size: int64(len(data)), OriginalFilename: filepath.Base(target),
		Key: key, Target: target, Action: action}
}

func (f *fleet) publish(id string, manifest []byte) {
	f.putObject("bundles/"+id+"/manifest.json", manifest)
}

func (f *fleet) point(value string) {
	f.t.Helper()
	_, err := f.ssm.PutParameter(context.Background(), &ssm.PutParameterInput{Name: aws.String(param), Value: aws.String(value),
		Type: ssmtypes.ParameterTypeString, Overwrite: aws.Bool(true)})
	if err != nil {
		f.t.Fatalf("put parameter: %v", err)
	}
}

type run struct {
	code  int
	lines []map[string]any
	raw   string
}

// syncBundle runs `worker sync-bundle --root <root>` as the unit would, with
// the env file's keys and the SDK's standard endpoint variables only.
func (f *fleet) syncBundle(root string, extra ...string) run {
	f.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, f.worker, append([]string{"sync-bundle", "--root", root}, extra...)...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + f.t.TempDir(),
		"WORKER_MODELS_BUCKET=" + bucket, "WORKER_ACTIVE_BUNDLE_PARAM=" + param}, f.moto.Env()...)
	var stderr bytes.Buffer
	cmd.Stderr, cmd.Stdout = &stderr, &stderr
	err := cmd.Run()
	r := run{raw: stderr.String()}
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		r.code = exit.ExitCode()
	case err != nil:
		f.t.Fatalf("run worker: %v", err)
	}
	r.lines = testtool.JSONLines(f.t, r.raw) // every line slog JSON, the SDK's own too
	return r
}

func (r run) last() map[string]any {
	if len(r.lines) == 0 {
		return nil
	}
	return r.lines[len(r.lines)-1]
}

func newFleet(t *testing.T) *fleet {
	built := startBuild(t)
	m := moto.Start(t)
	f := &fleet{t: t, moto: m, s3: m.S3(), ssm: m.SSM(), store: bundletest.Store{}}
	if _, err := f.s3.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatalf("create bucket: %v", err)
	}
	// No pointer yet. (moto loads its SSM backend, most of a second, on
	// this first call: while the binary builds, not in the first run.)
	var notFound *ssmtypes.ParameterNotFound
	if _, err := f.ssm.GetParameter(context.Background(), &ssm.GetParameterInput{Name: aws.String(param)}); !errors.As(err, &notFound) {
		t.Fatalf("get parameter %s before the test set it: %v, want ParameterNotFound", param, err)
	}
	f.worker = built()
	return f
}

// comfyRoot is a ComfyUI root as the AMI leaves it.
func comfyRoot(t *testing.T) string {
	root := filepath.Join(t.TempDir(), "comfyui")
	for p, body := range map[string]string{"main.py": "print('comfyui')\n", "venv/bin/python": "#!/bin/sh\n",
		"models/checkpoints/put_checkpoints_here": "", "custom_nodes/example_node.py.example": "#\n"} {
		testtool.WriteFile(t, root, p, body)
	}
	return root
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("read %s: %v", p, err)
	}
	return string(b)
}

func tree(t *testing.T, root string) string {
	t.Helper()
	var b strings.Builder
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if rel == ".bundle_sync.lock" {
			return nil
		}
		fi, _ := d.Info()
		if d.Type().IsRegular() {
			fmt.Fprintf(&b, "%s %o %q\n", rel, fi.Mode().Perm(), readFile(t, p))
		} else {
			fmt.Fprintf(&b, "%s %v\n", rel, fi.Mode())
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestSyncBundleBinaryAgainstMoto(t *testing.T) {
	f := newFleet(t)
	root := comfyRoot(t)
	pristine := tree(t, root)

	// 1. No parameter yet: boot with the AMI's models.
	r := f.syncBundle(root)
	if r.code != 0 || r.last()["outcome"] != "no_bundle" || tree(t, root) != pristine {
		t.Fatalf("absent parameter: exit %d\n%s", r.code, r.raw)
	}
	// 2. "none": the same.
	f.point("none")
	if r = f.syncBundle(root); r.code != 0 || r.last()["outcome"] != "no_bundle" || tree(t, root) != pristine {
		t.Fatalf("none: exit %d\n%s", r.code, r.raw)
	}

	// 3. Bundle 1 (pointer with a trailing "/"): a checkpoint copy, a custom
	// node tarball, a zip of LoRAs, and fields the worker does not know.
	node := bundletest.TarGz([]bundletest.Entry{{Name: "__init__.py", Body: "NODE_CLASS_MAPPINGS = {}\n"}, {Name: "nodes/a.py", Body: "a\n"}})
	loras := bundletest.Zip([]bundletest.Entry{{Name: "one.safetensors", Body: "1"}, {Name: "two.safetensors", Body: "2"}})
	b1 := "3f2a6c1e-8d4b-4f7a-9c2e-1b5d7e9f0a11"
	f.publish(b1, bundletest.Manifest(b1, []bundletest.Asset{
		f.asset(101, "checkpoint", []byte("sdxl weights"), "models/checkpoints/sdxl.safetensors", "copy"),
		f.asset(102, "custom_node", node, "custom_nodes/ComfyUI-Example", "extract_tar_gz"),
		func() bundletest.Asset {
			a := f.asset(103, "lora", loras, "models/loras/pack", "extract_zip")
			a.Extra = map[string]any{"preview_url": "https://example.invalid/p.png", "tags": []string{"style"}}
			return a
		}(),
	}, map[string]any{"created_by": map[string]any{"id": 9, "email": "admin@example.invalid"}, "checksum_algo": "sha256"}))
	f.point("bundles/" + b1 + "/")
	r = f.syncBundle(root)
	if r.code != 0 || r.last()["outcome"] != "applied" || r.last()["bundle_id"] != b1 {
		t.Fatalf("bundle 1: exit %d\n%s", r.code, r.raw)
	}
	for p, want := range map[string]string{
		"models/checkpoints/sdxl.safetensors":      "sdxl weights",
		"custom_nodes/ComfyUI-Example/__init__.py": "NODE_CLASS_MAPPINGS = {}\n",
		"custom_nodes/ComfyUI-Example/nodes/a.py":  "a\n",
		"models/loras/pack/two.safetensors":        "2",
		activeFile:                                 b1 + "\n",
		installedFile:                              "models/checkpoints/sdxl.safetensors\ncustom_nodes/ComfyUI-Example\nmodels/loras/pack\n",
	} {
		if got := readFile(t, filepath.Join(root, p)); got != want {
			t.Errorf("after bundle 1, %s = %q, want %q", p, got, want)
		}
	}
	// Next boot, same pointer: nothing to do.
	if r = f.syncBundle(root); r.code != 0 || r.last()["outcome"] != "already_active" {
		t.Fatalf("rerun: exit %d\n%s", r.code, r.raw)
	}

	// 4. Bundle 2, an older manifest (s3_key), pointer without "/": replaces
	// bundle 1 and removes the paths it no longer has.
	b2 := "b2-older-format"
	f.publish(b2, bundletest.Manifest(b2, []bundletest.Asset{
		func() bundletest.Asset {
			a := f.asset(201, "checkpoint", []byte("flux weights"), "models/checkpoints/flux.safetensors", "")
			a.OldKeyName, a.OmitAction = true, true
			return a
		}(),
	}, nil))
	f.point("bundles/" + b2)
	r = f.syncBundle(root)
	if r.code != 0 || r.last()["outcome"] != "applied" {
		t.Fatalf("bundle 2: exit %d\n%s", r.code, r.raw)
	}
	if readFile(t, filepath.Join(root, "models/checkpoints/flux.safetensors")) != "flux weights" ||
		readFile(t, filepath.Join(root, activeFile)) != b2+"\n" ||
		readFile(t, filepath.Join(root, installedFile)) != "models/checkpoints/flux.safetensors\n" {
		t.Fatalf("bundle 2 not in place:\n%s", tree(t, root))
	}
	for _, gone := range []string{"models/checkpoints/sdxl.safetensors", "custom_nodes/ComfyUI-Example", "models/loras/pack"} {
		if _, err := os.Lstat(filepath.Join(root, gone)); err == nil {
			t.Errorf("%s of bundle 1 survived bundle 2", gone)
		}
	}
	for _, kept := range []string{"main.py", "venv/bin/python", "models/checkpoints/put_checkpoints_here", "custom_nodes/example_node.py.example"} {
		if _, err := os.Lstat(filepath.Join(root, kept)); err != nil {
			t.Errorf("%s (not a bundle path) was removed", kept)
		}
	}
	afterB2 := tree(t, root)

	// 5. Bundle 3 with a wrong sha256: refused (exit 3), bundle 2 untouched.
	b3 := "b3-bad-sha"
	good := f.asset(301, "vae", []byte("vae"), "models/vae/v.safetensors", "copy")
	bad := f.asset(302, "checkpoint", []byte("real bytes"), "models/checkpoints/x.safetensors", "copy")
	bad.SHA256 = strings.Repeat("0", 64)
	f.publish(b3, bundletest.Manifest(b3, []bundletest.Asset{good, bad}, nil))
	f.point("bundles/" + b3)
	r = f.syncBundle(root)
	t.Logf("refused bundle, the unit's log:\n%s", r.raw)
	if r.code != 3 || !strings.Contains(r.raw, "sha256") || r.last()["msg"] != "bundle sync failed; the previous bundle is left as it was" {
		t.Fatalf("bad sha256: exit %d\n%s", r.code, r.raw)
	}
	if got := tree(t, root); got != afterB2 {
		t.Fatalf("a refused bundle changed the disk:\nbefore\n%s\nafter\n%s", afterB2, got)
	}

	// 6. Smart skip: an AMI baked with bundle 2 downloads nothing. Its assets
	// are deleted from the bucket first, so any download would fail the run.
	baked := comfyRoot(t)
	testtool.WriteFile(t, baked, bakedFile, b2+"\n")
	for key := range f.store {
		if _, err := f.s3.DeleteObject(context.Background(), &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}); err != nil {
			t.Fatal(err)
		}
	}
	f.point("bundles/" + b2 + "/")
	if r = f.syncBundle(baked); r.code != 0 || r.last()["outcome"] != "baked" || readFile(t, filepath.Join(baked, activeFile)) != b2+"\n" {
		t.Fatalf("baked skip: exit %d\n%s", r.code, r.raw)
	}
	// ...while the instance that runs bundle 3's broken pointer still refuses.
	f.point("bundles/" + b3)
	if r = f.syncBundle(root); r.code == 0 {
		t.Fatalf("pointer to a bundle whose assets are gone succeeded:\n%s", r.raw)
	}
}
