package bundle

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
)

type memS3 struct {
	objects map[string][]byte
	gets    int
}

func (m *memS3) GetObject(_ context.Context, in *s3.GetObjectInput, _ ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	m.gets++
	b, ok := m.objects[*in.Key]
	if !ok {
		return nil, errors.New("NoSuchKey: " + *in.Key)
	}
	return &s3.GetObjectOutput{Body: io.NopCloser(bytes.NewReader(b))}, nil
}

type memSSM struct {
	value   string
	missing bool // the parameter does not exist
}

func (m memSSM) GetParameter(_ context.Context, in *ssm.GetParameterInput, _ ...func(*ssm.Options)) (*ssm.GetParameterOutput, error) {
	if m.missing {
		return nil, &ssmtypes.ParameterNotFound{Message: aws.String("parameter " + aws.ToString(in.Name) + " not found")}
	}
	return &ssm.GetParameterOutput{Parameter: &ssmtypes.Parameter{Value: aws.String(m.value)}}, nil
}

// asset stores data content-addressed and returns its key.
func (m *memS3) asset(kind string, data []byte) string {
	sum := sha256.Sum256(data)
	key := "assets/" + kind + "/" + hex.EncodeToString(sum[:])
	m.objects[key] = data
	return key
}

func (m *memS3) manifest(id string, entries []Entry) {
	b, _ := json.Marshal(Manifest{BundleID: id, Entries: entries})
	m.objects[ManifestKey(id)] = b
}

type archEntry struct {
	name, body, link string
}

func makeZip(t *testing.T, entries []archEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		h := &zip.FileHeader{Name: e.name, Method: zip.Store}
		body := e.body
		if e.link != "" {
			h.SetMode(os.ModeSymlink | 0o777)
			body = e.link
		}
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.WriteString(w, body)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func makeTarGz(t *testing.T, entries []archEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Mode: 0o644, Size: int64(len(e.body)), Typeflag: tar.TypeReg}
		if e.link != "" {
			h.Typeflag, h.Linkname, h.Size = tar.TypeSymlink, e.link, 0
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if e.link == "" {
			_, _ = io.WriteString(tw, e.body)
		}
	}
	tw.Close()
	gz.Close()
	return buf.Bytes()
}

type env struct {
	s3      *memS3
	syncer  *Syncer
	root    string
	outside string
}

func newEnv(t *testing.T, bundleID string) *env {
	dir := t.TempDir()
	e := &env{s3: &memS3{objects: map[string][]byte{}}, root: filepath.Join(dir, "models"), outside: dir}
	e.syncer = &Syncer{S3: e.s3, SSM: memSSM{value: bundleID}, Bucket: "models", Param: "/bp/staging/fleets/gpu-default/active_bundle",
		ModelsDir: e.root, AppliedFile: filepath.Join(dir, ".baked-bundle-id"), Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	return e
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestSyncAppliesCopyZipAndTarThenSkips(t *testing.T) {
	e := newEnv(t, "b-2")
	ckpt := e.s3.asset("checkpoints", []byte("weights"))
	zipKey := e.s3.asset("loras", makeZip(t, []archEntry{{name: "a/one.safetensors", body: "1"}, {name: "a/alias", link: "one.safetensors"}}))
	tarKey := e.s3.asset("nodes", makeTarGz(t, []archEntry{{name: "pack/two.bin", body: "22"}}))
	e.s3.manifest("b-2", []Entry{
		{Key: ckpt, Target: "checkpoints/sdxl.safetensors", Action: ActionCopy},
		{Key: zipKey, Target: "loras", Action: ActionExtractZip},
		{Key: tarKey, Target: "custom", Action: ActionExtractTarGz},
	})
	res, err := e.syncer.Sync(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res.Skipped || res.Entries != 3 {
		t.Fatalf("result %+v", res)
	}
	if readFile(t, filepath.Join(e.root, "checkpoints/sdxl.safetensors")) != "weights" ||
		readFile(t, filepath.Join(e.root, "loras/a/alias")) != "1" ||
		readFile(t, filepath.Join(e.root, "custom/pack/two.bin")) != "22" {
		t.Fatal("bundle content not in place")
	}
	if strings.TrimSpace(readFile(t, e.syncer.AppliedFile)) != "b-2" {
		t.Fatal("applied bundle id not recorded")
	}
	gets := e.s3.gets
	res, err = e.syncer.Sync(context.Background())
	if err != nil || !res.Skipped || e.s3.gets != gets {
		t.Fatalf("second sync: %+v %v, S3 gets %d -> %d (want skipped, no download)", res, err, gets, e.s3.gets)
	}
}

func TestSyncRejectsPathTraversal(t *testing.T) {
	cases := map[string]func(e *env) []Entry{
		"manifest target": func(e *env) []Entry {
			return []Entry{{Key: e.s3.asset("x", []byte("evil")), Target: "../escaped", Action: ActionCopy}}
		},
		"absolute target": func(e *env) []Entry {
			return []Entry{{Key: e.s3.asset("x", []byte("evil")), Target: filepath.Join(e.outside, "escaped"), Action: ActionCopy}}
		},
		"zip entry": func(e *env) []Entry {
			return []Entry{{Key: e.s3.asset("x", makeZip(t, []archEntry{{name: "ok.txt", body: "fine"}, {name: "../../escaped", body: "evil"}})), Target: "loras", Action: ActionExtractZip}}
		},
		"tar entry": func(e *env) []Entry {
			return []Entry{{Key: e.s3.asset("x", makeTarGz(t, []archEntry{{name: "ok.txt", body: "fine"}, {name: "../../escaped", body: "evil"}})), Target: "nodes", Action: ActionExtractTarGz}}
		},
		"zip symlink": func(e *env) []Entry {
			return []Entry{{Key: e.s3.asset("x", makeZip(t, []archEntry{{name: "link", link: "../../escaped"}})), Target: "loras", Action: ActionExtractZip}}
		},
		"tar absolute symlink": func(e *env) []Entry {
			return []Entry{{Key: e.s3.asset("x", makeTarGz(t, []archEntry{{name: "link", link: "/etc/passwd"}})), Target: "nodes", Action: ActionExtractTarGz}}
		},
	}
	for name, entries := range cases {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, "b-evil")
			e.s3.manifest("b-evil", entries(e))
			_, err := e.syncer.Sync(context.Background())
			if err == nil || !strings.Contains(err.Error(), "escape") && !strings.Contains(err.Error(), "absolute") {
				t.Fatalf("err=%v, want a path escape rejection", err)
			}
			if _, err := os.Stat(filepath.Join(e.outside, "escaped")); err == nil {
				t.Fatal("a file was written outside the models dir")
			}
			if _, err := os.Stat(filepath.Join(e.root, "loras", "ok.txt")); err == nil {
				t.Fatal("a rejected archive was partly extracted")
			}
			if _, err := os.Stat(e.syncer.AppliedFile); err == nil {
				t.Fatal("a rejected bundle was recorded as applied")
			}
		})
	}
}

func TestSyncRefusesWritingThroughExistingSymlink(t *testing.T) {
	e := newEnv(t, "b-3")
	if err := os.MkdirAll(e.root, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(e.outside, filepath.Join(e.root, "trap")); err != nil {
		t.Fatal(err)
	}
	e.s3.manifest("b-3", []Entry{{Key: e.s3.asset("x", []byte("evil")), Target: "trap/escaped", Action: ActionCopy}})
	if _, err := e.syncer.Sync(context.Background()); err == nil || !strings.Contains(err.Error(), "outside") {
		t.Fatalf("err=%v, want refusal to write through a symlink", err)
	}
	if _, err := os.Stat(filepath.Join(e.outside, "escaped")); err == nil {
		t.Fatal("file written through a symlink outside the models dir")
	}
}

func TestSyncChecksSha256AndManifestShape(t *testing.T) {
	e := newEnv(t, "b-4")
	key := e.s3.asset("checkpoints", []byte("good"))
	e.s3.objects[key] = []byte("tampered")
	e.s3.manifest("b-4", []Entry{{Key: key, Target: "c.bin", Action: ActionCopy}})
	if _, err := e.syncer.Sync(context.Background()); err == nil || !strings.Contains(err.Error(), "sha256") {
		t.Fatalf("err=%v, want sha256 mismatch", err)
	}
	if _, err := os.Stat(filepath.Join(e.root, "c.bin")); err == nil {
		t.Fatal("tampered file was installed")
	}
	_, err := ParseManifest(strings.NewReader(`{"bundle_id":"b-5","entries":[{"key":"models/x","target":"a","action":"move"}]}`), "b-5")
	if err == nil || !strings.Contains(err.Error(), `action "move"`) || !strings.Contains(err.Error(), "cannot be verified") {
		t.Fatalf("err=%v, want both problems reported", err)
	}
}

// The reviewer's archive: each link looks harmless on its own, but `a/l`
// sits inside the link `a -> .`, so it really points at the models dir's
// parent, and `a/l/newdir/f` would create a directory outside.
func TestSyncRejectsEntriesThroughSymlinksOfTheSameArchive(t *testing.T) {
	e := newEnv(t, "b-chain")
	tgz := makeTarGz(t, []archEntry{{name: "a", link: "."}, {name: "a/l", link: "../.."}, {name: "a/l/newdir/f", body: "evil"}})
	e.s3.manifest("b-chain", []Entry{{Key: e.s3.asset("x", tgz), Target: "nodes", Action: ActionExtractTarGz}})
	_, err := e.syncer.Sync(context.Background())
	if err == nil || !strings.Contains(err.Error(), `goes through symlink "a"`) {
		t.Fatalf("err=%v, want the entries inside symlink a rejected", err)
	}
	if _, err := os.Lstat(filepath.Join(e.outside, "newdir")); err == nil {
		t.Fatal("a directory was created outside the models dir")
	}
	if _, err := os.Lstat(filepath.Join(e.root, "nodes", "a")); err == nil {
		t.Fatal("a rejected archive was partly extracted")
	}
}

func TestSyncCreatesNoDirectoryThroughAnExistingSymlink(t *testing.T) {
	e := newEnv(t, "b-4")
	if err := os.MkdirAll(e.root, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(e.outside, filepath.Join(e.root, "trap")); err != nil {
		t.Fatal(err)
	}
	e.s3.manifest("b-4", []Entry{{Key: e.s3.asset("x", []byte("evil")), Target: "trap/newdir/f", Action: ActionCopy}})
	if _, err := e.syncer.Sync(context.Background()); err == nil || !strings.Contains(err.Error(), "outside") {
		t.Fatalf("err=%v, want refusal to write through a symlink", err)
	}
	if _, err := os.Lstat(filepath.Join(e.outside, "newdir")); err == nil {
		t.Fatal("MkdirAll created a directory outside the models dir before the check")
	}
}

func TestSyncChecksArchiveSymlinksAgainstTheRealDirectory(t *testing.T) {
	e := newEnv(t, "b-5")
	// Already on disk: nodes/deep is a link to the models dir itself (inside).
	// A link nodes/deep/l -> ../.. looks like models/, but from the real
	// directory (models) it points two levels above it.
	if err := os.MkdirAll(filepath.Join(e.root, "nodes"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(e.root, filepath.Join(e.root, "nodes", "deep")); err != nil {
		t.Fatal(err)
	}
	tgz := makeTarGz(t, []archEntry{{name: "deep/l", link: "../.."}})
	e.s3.manifest("b-5", []Entry{{Key: e.s3.asset("x", tgz), Target: "nodes", Action: ActionExtractTarGz}})
	if _, err := e.syncer.Sync(context.Background()); err == nil || !strings.Contains(err.Error(), "escapes") {
		t.Fatalf("err=%v, want the link refused", err)
	}
	if _, err := os.Lstat(filepath.Join(e.root, "l")); err == nil {
		t.Fatal("an escaping symlink was created")
	}
}

// TestSyncWithoutActiveBundleKeepsTheBakedModels: a fleet whose active-bundle
// parameter was never set boots with the AMI's models instead of failing the
// unit the worker requires.
func TestSyncWithoutActiveBundleKeepsTheBakedModels(t *testing.T) {
	e := newEnv(t, "b-2")
	e.syncer.SSM = memSSM{missing: true}
	if err := os.WriteFile(e.syncer.AppliedFile, []byte("baked-1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := e.syncer.Sync(context.Background())
	if err != nil {
		t.Fatalf("a missing parameter must not fail the sync: %v", err)
	}
	if !res.Skipped || res.BundleID != "baked-1" || e.s3.gets != 0 {
		t.Fatalf("result %+v, S3 gets %d: want skipped with the baked bundle and no download", res, e.s3.gets)
	}
}
