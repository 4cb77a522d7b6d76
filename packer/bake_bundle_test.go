package packer_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/bp/infra/bootcontract"
	"github.com/bp/infra/internal/moto"
	"github.com/bp/infra/worker/testsupport/bundletest"
)

const bakeID = "0b7e4d2c-1f3a-4c5b-8d6e-7f8091a2b3c4"

// bakeFixtures numbers the fixtures on the shared moto_server, so tests in
// parallel never see each other's bucket or pointer.
var bakeFixtures atomic.Int32

// bakeWorld is one published bundle: its bucket and the fleet's pointer.
type bakeWorld struct {
	m             *moto.Server
	store         bundletest.Store
	bucket, param string
}

// bakeFixture publishes one bundle as the backend does (a checkpoint and a
// custom node tarball, manifest from the backend's example) in moto and
// points the fleet at it.
func bakeFixture(t *testing.T) bakeWorld {
	t.Helper()
	n := bakeFixtures.Add(1)
	w := bakeWorld{m: motoShared.Get(t), store: bundletest.Store{},
		bucket: fmt.Sprintf("bp-staging-models-%d", n), param: fmt.Sprintf("/bp/staging/fleets/gpu-bake-%d/active_bundle", n)}
	ctx := context.Background()
	cl := w.m.S3()
	if _, err := cl.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(w.bucket)}); err != nil {
		t.Fatal(err)
	}
	put := func(key string, body []byte) {
		if _, err := cl.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(w.bucket), Key: aws.String(key), Body: bytes.NewReader(body)}); err != nil {
			t.Fatal(err)
		}
	}
	asset := func(id int, kind string, data []byte, target, action string) bundletest.Asset {
		key, sum := w.store.Put(kind, data)
		put(key, data)
		return bundletest.Asset{AssetID: id, Kind: kind, SHA256: sum, Size: int64(len(data)), Key: key, Target: target, Action: action}
	}
	node := bundletest.TarGz([]bundletest.Entry{{Name: "__init__.py", Body: "NODE_CLASS_MAPPINGS = {}\n"}})
	put("bundles/"+bakeID+"/manifest.json", bundletest.Manifest(bakeID, []bundletest.Asset{
		asset(1, "checkpoint", []byte("weights"), "models/checkpoints/sdxl.safetensors", "copy"),
		asset(2, "custom_node", node, "custom_nodes/ComfyUI-Example", "extract_tar_gz"),
	}, nil))
	if _, err := w.m.SSM().PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String(w.param), Value: aws.String("bundles/" + bakeID + "/"),
		Type: ssmtypes.ParameterTypeString}); err != nil {
		t.Fatal(err)
	}
	return w
}

func (w bakeWorld) bake(t *testing.T, root, bundleID string) result {
	t.Helper()
	env := append(bootEnv(), w.m.Env()...)
	env = append(env, "BUNDLE_ID="+bundleID, "MODELS_BUCKET="+w.bucket, "AWS_REGION="+moto.Region, "ACTIVE_BUNDLE_PARAM="+w.param)
	return run(t, env, script(t, "bake-bundle.sh"), "--root", root)
}

// The AMI's bake step runs the installed worker binary (the boot-time code),
// so the image holds the bundle and the 7a state files, and the first boot
// with the same pointer downloads nothing.
func TestBakeBundle_BakesWithTheWorkersOwnSync(t *testing.T) {
	t.Parallel()
	w := bakeFixture(t)
	root := healthyRoot(t)
	r := w.bake(t, root, bakeID)
	if r.err != nil {
		t.Fatalf("bake-bundle.sh: %v\n%s", r.err, r.out)
	}
	home := filepath.Join(root, bootcontract.ComfyUIHome)
	for rel, want := range map[string]string{
		"models/checkpoints/sdxl.safetensors":      "weights",
		"custom_nodes/ComfyUI-Example/__init__.py": "NODE_CLASS_MAPPINGS = {}\n",
		".baked_bundle_id":                         bakeID + "\n",
		".active_bundle_id":                        bakeID + "\n",
		".installed_bundle_paths":                  "models/checkpoints/sdxl.safetensors\ncustom_nodes/ComfyUI-Example\n",
	} {
		if got := readFile(t, filepath.Join(home, rel)); got != want {
			t.Errorf("%s = %q, want %q", rel, got, want)
		}
	}
	if r := selfCheck(t, root, "EXPECT_BUNDLE_ID="+bakeID); r.err != nil || !strings.Contains(r.out, "self-check ok: baked bundle "+bakeID) {
		t.Errorf("self-check after the bake: %v\n%s", r.err, r.out)
	}

	// First boot: the assets are gone from the bucket, so only a sync that
	// downloads nothing can succeed.
	for key := range w.store {
		if _, err := w.m.S3().DeleteObject(context.Background(), &s3.DeleteObjectInput{Bucket: aws.String(w.bucket), Key: aws.String(key)}); err != nil {
			t.Fatal(err)
		}
	}
	boot := exec.Command(filepath.Join(root, bootcontract.WorkerBinary), "sync-bundle", "--root", home)
	boot.Env = append(append(os.Environ(), w.m.Env()...), bootcontract.EnvModelsBucket+"="+w.bucket, bootcontract.EnvActiveBundleParam+"="+w.param)
	if out, err := boot.CombinedOutput(); err != nil || !strings.Contains(string(out), `"outcome":"already_active"`) {
		t.Fatalf("first boot of the baked image: %v\n%s", err, out)
	}
}

func TestBakeBundle_RefusesABundleThatIsNotActive(t *testing.T) {
	t.Parallel()
	w := bakeFixture(t)
	root := healthyRoot(t)
	r := w.bake(t, root, "some-other-bundle")
	if r.err == nil || !strings.Contains(r.out, "names bundle "+bakeID+", but bundle some-other-bundle was asked for") {
		t.Fatalf("want a refusal naming both bundles, got err=%v\n%s", r.err, r.out)
	}
	for _, f := range []string{bootcontract.BakedBundleIDFile, bootcontract.ActiveBundleIDFile, bootcontract.ComfyUIModelsDir + "/checkpoints/sdxl.safetensors"} {
		if _, err := os.Stat(filepath.Join(root, f)); err == nil {
			t.Errorf("%s exists after a refused bake", f)
		}
	}
}

func TestBakeBundle_EmptyBundleIDBakesNothing(t *testing.T) {
	t.Parallel()
	root := healthyRoot(t)
	writeFile(t, filepath.Join(root, bootcontract.BakedBundleIDFile), "stale\n", 0o644)
	env := append(bootEnv(), "BUNDLE_ID=")
	if r := run(t, env, script(t, "bake-bundle.sh"), "--root", root); r.err != nil {
		t.Fatalf("%v\n%s", r.err, r.out)
	}
	if _, err := os.Stat(filepath.Join(root, bootcontract.BakedBundleIDFile)); err == nil {
		t.Error("a stale baked bundle id survived an empty bundle_id")
	}
}
