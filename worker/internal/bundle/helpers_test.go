package bundle

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/bp/infra/worker/testsupport/bundletest"
)

// The names the backend, the AMI pipeline and the old installer use
// (quoted from the backend's bundle format, not from our constants).
const (
	bakedFile     = ".baked_bundle_id"
	activeFile    = ".active_bundle_id"
	installedFile = ".installed_bundle_paths"
	param         = "/bp/staging/fleets/gpu-default/active_bundle"
)

type memS3 struct {
	mu      sync.Mutex
	objects bundletest.Store
	gets    []string
}

func (m *memS3) GetObject(_ context.Context, in *s3.GetObjectInput, _ ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.gets = append(m.gets, *in.Key)
	b, ok := m.objects[*in.Key]
	if !ok {
		return nil, &s3types.NoSuchKey{Message: aws.String("no such key " + *in.Key)}
	}
	return &s3.GetObjectOutput{Body: io.NopCloser(bytes.NewReader(b))}, nil
}

type memSSM struct {
	value   string
	missing bool
}

func (m *memSSM) GetParameter(_ context.Context, in *ssm.GetParameterInput, _ ...func(*ssm.Options)) (*ssm.GetParameterOutput, error) {
	if m.missing {
		return nil, &ssmtypes.ParameterNotFound{Message: aws.String("parameter " + aws.ToString(in.Name) + " not found")}
	}
	return &ssm.GetParameterOutput{Parameter: &ssmtypes.Parameter{Value: aws.String(m.value)}}, nil
}

type env struct {
	t       testing.TB
	s3      *memS3
	ssm     *memSSM
	syncer  *Syncer
	root    string
	outside string
}

// newEnv lays out a ComfyUI root as the AMI has it: code, venv, the model
// and custom node folders with ComfyUI's own placeholder files.
func newEnv(t testing.TB) *env {
	t.Helper()
	dir := t.TempDir()
	e := &env{t: t, s3: &memS3{objects: bundletest.Store{}}, ssm: &memSSM{}, root: filepath.Join(dir, "comfyui"), outside: filepath.Join(dir, "outside")}
	for p, body := range map[string]string{
		"main.py":         "print('comfyui')\n",
		"venv/bin/python": "#!/bin/sh\n",
		"models/checkpoints/put_checkpoints_here": "",
		"models/loras/put_loras_here":             "",
		"custom_nodes/example_node.py.example":    "# example\n",
		"user/default/comfy.settings.json":        "{}\n",
		"../outside/keep.txt":                     "outside\n",
	} {
		e.write(p, body)
	}
	e.syncer = &Syncer{S3: e.s3, SSM: e.ssm, Bucket: "bp-staging-models", Param: param, Root: e.root,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	return e
}

func (e *env) write(rel, body string) {
	e.t.Helper()
	p := filepath.Join(e.root, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		e.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) read(rel string) string {
	e.t.Helper()
	b, err := os.ReadFile(filepath.Join(e.root, rel))
	if err != nil {
		e.t.Fatalf("read %s: %v", rel, err)
	}
	return string(b)
}

func (e *env) exists(rel string) bool {
	_, err := os.Lstat(filepath.Join(e.root, rel))
	return err == nil
}

// publish stores a bundle as the backend does: manifest at
// bundles/<id>/manifest.json, pointer at bundles/<id> (with the given suffix).
func (e *env) publish(id string, assets []bundletest.Asset, pointerSuffix string) {
	e.s3.objects["bundles/"+id+"/manifest.json"] = bundletest.Manifest(id, assets, nil)
	e.ssm.value = "bundles/" + id + pointerSuffix
}

// asset stores data content-addressed and returns a manifest asset for it.
func (e *env) asset(kind string, data []byte, target, action string) bundletest.Asset {
	key, sum := e.s3.objects.Put(kind, data)
	return bundletest.Asset{AssetID: len(e.s3.objects), Kind: kind, SHA256: sum, Size: int64(len(data)),
		OriginalFilename: filepath.Base(target), Key: key, Target: target, Action: action}
}

func (e *env) sync() (Result, error) {
	e.t.Helper()
	e.s3.gets = nil
	return e.syncer.Sync(context.Background())
}

func (e *env) mustSync() Result {
	e.t.Helper()
	res, err := e.sync()
	if err != nil {
		e.t.Fatalf("sync: %v", err)
	}
	return res
}

// snapshot records every path under dir (not following symlinks) with its
// type, mode and content, so "left exactly as it was" can be compared.
func snapshot(t testing.TB, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		switch {
		case fi.Mode()&fs.ModeSymlink != 0:
			l, _ := os.Readlink(p)
			out[rel] = "link->" + l
		case fi.IsDir():
			out[rel] = fmt.Sprintf("dir %o", fi.Mode().Perm())
		default:
			b, _ := os.ReadFile(p)
			out[rel] = fmt.Sprintf("file %o %q", fi.Mode().Perm(), b)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// diffSnapshots lists what changed, ignoring new empty folders (a failed
// switch may leave the parents it created) and the sync's lock file.
func diffSnapshots(before, after map[string]string) []string {
	var d []string
	for k, v := range before {
		if after[k] != v {
			d = append(d, fmt.Sprintf("%s: %s -> %s", k, v, after[k]))
		}
	}
	for k, v := range after {
		if _, ok := before[k]; !ok && !strings.HasPrefix(v, "dir ") && filepath.Base(k) != lockName {
			d = append(d, fmt.Sprintf("%s: new %s", k, v))
		}
	}
	return d
}

func isRefused(err error) bool {
	var r *RefusedError
	return errors.As(err, &r)
}
