package bundle

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
)

// ObjectAPI is the S3 call used.
type ObjectAPI interface {
	GetObject(ctx context.Context, in *s3.GetObjectInput, opts ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

// ParamAPI is the SSM call used.
type ParamAPI interface {
	GetParameter(ctx context.Context, in *ssm.GetParameterInput, opts ...func(*ssm.Options)) (*ssm.GetParameterOutput, error)
}

// Syncer applies the active bundle.
type Syncer struct {
	S3          ObjectAPI
	SSM         ParamAPI
	Bucket      string
	Param       string // SSM parameter holding the active bundle id
	ModelsDir   string // root that nothing may escape
	AppliedFile string // bundle id on disk (baked in the AMI, rewritten here)
	Log         *slog.Logger
}

// Result says what Sync did.
type Result struct {
	BundleID string
	Skipped  bool
	Entries  int
}

// Sync applies the active bundle unless it is already on disk.
func (s *Syncer) Sync(ctx context.Context) (Result, error) {
	p, err := s.SSM.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(s.Param)})
	var notSet *ssmtypes.ParameterNotFound
	if errors.As(err, &notSet) {
		// A new fleet whose model team has not chosen a bundle yet runs with
		// what the AMI baked in; failing here would keep the worker from ever
		// starting (its unit requires this one) while the instance bills.
		baked, _ := os.ReadFile(s.AppliedFile)
		s.Log.Warn("no active bundle is set for this fleet; running with the AMI's models", "parameter", s.Param,
			"baked_bundle_id", strings.TrimSpace(string(baked)))
		return Result{BundleID: strings.TrimSpace(string(baked)), Skipped: true}, nil
	}
	if err != nil {
		return Result{}, fmt.Errorf("read active bundle id from SSM %s: %w", s.Param, err)
	}
	id := strings.TrimSpace(aws.ToString(p.Parameter.Value))
	if !bundleIDPattern.MatchString(id) {
		return Result{}, fmt.Errorf("SSM %s holds %q, which is not a bundle id (letters, digits, . _ -)", s.Param, id)
	}
	applied, err := os.ReadFile(s.AppliedFile)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return Result{}, fmt.Errorf("read %s: %w", s.AppliedFile, err)
	}
	if strings.TrimSpace(string(applied)) == id {
		s.Log.Info("bundle already applied; nothing to do", "bundle_id", id)
		return Result{BundleID: id, Skipped: true}, nil
	}
	obj, err := s.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.Bucket), Key: aws.String(ManifestKey(id))})
	if err != nil {
		return Result{}, fmt.Errorf("download s3://%s/%s: %w", s.Bucket, ManifestKey(id), err)
	}
	m, err := ParseManifest(obj.Body, id)
	obj.Body.Close()
	if err != nil {
		return Result{}, err
	}
	root, err := filepath.Abs(s.ModelsDir)
	if err != nil {
		return Result{}, err
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		return Result{}, fmt.Errorf("create models dir %s: %w", root, err)
	}
	for i, e := range m.Entries {
		if err := s.apply(ctx, root, e); err != nil {
			return Result{}, fmt.Errorf("bundle %s entry %d (%s -> %s): %w", id, i, e.Key, e.Target, err)
		}
		s.Log.Info("bundle entry applied", "bundle_id", id, "key", e.Key, "target", e.Target, "action", e.Action)
	}
	if err := writeAtomic(s.AppliedFile, []byte(id+"\n")); err != nil {
		return Result{}, fmt.Errorf("record applied bundle id: %w", err)
	}
	return Result{BundleID: id, Entries: len(m.Entries)}, nil
}

func (s *Syncer) apply(ctx context.Context, root string, e Entry) error {
	dest, err := safeJoin(root, e.Target)
	if err != nil {
		return err
	}
	tmp, err := s.download(ctx, root, e)
	if err != nil {
		return err
	}
	defer os.Remove(tmp)
	switch e.Action {
	case ActionCopy:
		if err := prepareParent(root, dest); err != nil {
			return err
		}
		if err := os.Rename(tmp, dest); err != nil {
			return fmt.Errorf("move into %s: %w", dest, err)
		}
		return os.Chmod(dest, 0o644)
	case ActionExtractZip:
		return extract(root, dest, zipMembers(tmp))
	case ActionExtractTarGz:
		return extract(root, dest, tarGzMembers(tmp))
	}
	return fmt.Errorf("unknown action %q", e.Action)
}

// download streams the object to a temp file inside root (so a copy is a
// rename) and checks its sha256 on the way.
func (s *Syncer) download(ctx context.Context, root string, e Entry) (string, error) {
	obj, err := s.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.Bucket), Key: aws.String(e.Key)})
	if err != nil {
		return "", fmt.Errorf("download s3://%s/%s: %w", s.Bucket, e.Key, err)
	}
	defer obj.Body.Close()
	f, err := os.CreateTemp(root, ".bundle-download-*")
	if err != nil {
		return "", fmt.Errorf("create temp file in %s: %w", root, err)
	}
	h := sha256.New()
	_, err = io.Copy(io.MultiWriter(f, h), obj.Body)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return "", fmt.Errorf("download s3://%s/%s: %w", s.Bucket, e.Key, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != e.SHA256 {
		os.Remove(f.Name())
		return "", fmt.Errorf("sha256 of s3://%s/%s is %s, want %s", s.Bucket, e.Key, got, e.SHA256)
	}
	return f.Name(), nil
}

func writeAtomic(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
