package bundle

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"syscall"

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

// Syncer applies the fleet's active bundle to a ComfyUI root.
type Syncer struct {
	S3     ObjectAPI
	SSM    ParamAPI
	Bucket string
	Param  string // the active_bundle SSM parameter
	Root   string // the ComfyUI root, /opt/comfyui
	// Bake records the applied bundle in .baked_bundle_id too (AMI build).
	Bake bool
	// ExpectID, when set, refuses a pointer naming another bundle before
	// anything is downloaded (the AMI build bakes exactly what it was asked).
	ExpectID string
	Log      *slog.Logger

	testHookBeforeActive func() error
	testHookAfterStage   func(i int) error
}

// Outcome says what a sync did.
type Outcome string

const (
	OutcomeNoBundle      Outcome = "no_bundle"      // parameter absent or "none": the AMI's models stay
	OutcomeAlreadyActive Outcome = "already_active" // .active_bundle_id already names it
	OutcomeBaked         Outcome = "baked"          // equals .baked_bundle_id: nothing downloaded
	OutcomeApplied       Outcome = "applied"
)

// Result says what Sync did.
type Result struct {
	BundleID string
	Outcome  Outcome
	Assets   int
	Bytes    int64
	Removed  []string // previous bundle paths the new one no longer has
}

// RefusedError marks a bundle that is wrong in itself (manifest, sha256,
// paths): retrying cannot help, the backend must publish a fixed bundle.
type RefusedError struct{ Err error }

func (e *RefusedError) Error() string { return e.Err.Error() }
func (e *RefusedError) Unwrap() error { return e.Err }

func refused(err error) error {
	var r *RefusedError
	if err == nil || errors.As(err, &r) {
		return err
	}
	return &RefusedError{Err: err}
}

// Sync applies the active bundle unless it is already on disk. On any error
// the previous bundle's files and state files are left as they were.
func (sy *Syncer) Sync(ctx context.Context) (Result, error) {
	rootDir, err := filepath.Abs(sy.Root)
	if err != nil {
		return Result{}, err
	}
	if fi, err := os.Stat(rootDir); err != nil || !fi.IsDir() {
		return Result{}, fmt.Errorf("ComfyUI root %s is not a folder: %v", rootDir, err)
	}
	r := root(rootDir)
	unlock, err := lock(r)
	if err != nil {
		return Result{}, err
	}
	defer unlock()

	p, ok, err := sy.pointer(ctx)
	if err != nil {
		return Result{}, err
	}
	if !ok {
		if sy.ExpectID != "" {
			return Result{}, refused(fmt.Errorf("SSM %s names no bundle, but bundle %s was asked for", sy.Param, sy.ExpectID))
		}
		return Result{Outcome: OutcomeNoBundle}, nil
	}
	if sy.ExpectID != "" && p.ID != sy.ExpectID {
		return Result{}, refused(fmt.Errorf("SSM %s names bundle %s, but bundle %s was asked for", sy.Param, p.ID, sy.ExpectID))
	}
	log := sy.Log.With("bundle_id", p.ID)
	if skip, err := sy.skip(r, p.ID, log); err != nil || skip != "" {
		if err == nil && sy.Bake {
			err = writeAtomic(r.join(bakedIDName), []byte(p.ID+"\n"))
		}
		return Result{BundleID: p.ID, Outcome: skip}, err
	}
	res, err := sy.apply(ctx, r, p, log)
	if err != nil {
		return Result{BundleID: p.ID}, err
	}
	if sy.Bake {
		if err := writeAtomic(r.join(bakedIDName), []byte(p.ID+"\n")); err != nil {
			return res, fmt.Errorf("record the baked bundle in %s: %w", r.join(bakedIDName), err)
		}
	}
	return res, nil
}

// pointer reads the active_bundle parameter; ok is false when there is no bundle.
func (sy *Syncer) pointer(ctx context.Context) (Pointer, bool, error) {
	out, err := sy.SSM.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(sy.Param)})
	var notSet *ssmtypes.ParameterNotFound
	if errors.As(err, &notSet) {
		// A fleet whose admins have not activated a bundle yet runs with the
		// AMI's models; failing would keep the worker (which requires this
		// unit) from ever starting while the instance bills.
		sy.Log.Warn("no active bundle parameter for this fleet; keeping the models on disk", "parameter", sy.Param)
		return Pointer{}, false, nil
	}
	if err != nil {
		return Pointer{}, false, fmt.Errorf("read the active bundle from SSM %s: %w", sy.Param, err)
	}
	value := aws.ToString(out.Parameter.Value)
	p, ok, err := ParsePointer(value)
	if err != nil {
		return Pointer{}, false, refused(fmt.Errorf("SSM %s: %w", sy.Param, err))
	}
	if !ok {
		sy.Log.Info("the fleet's active bundle is none; keeping the models on disk", "parameter", sy.Param)
		return Pointer{}, false, nil
	}
	sy.Log.Info("active bundle", "parameter", sy.Param, "value", value, "bundle_id", p.ID, "manifest", "s3://"+sy.Bucket+"/"+p.ManifestKey())
	return p, true, nil
}

// skip decides whether the bundle is already on disk. After a run that died
// mid-switch the disk matches no id, so nothing is skipped.
func (sy *Syncer) skip(r root, id string, log *slog.Logger) (Outcome, error) {
	if _, err := os.Lstat(r.join(switchMarkerName)); err == nil {
		log.Warn("an earlier sync stopped while switching bundles; re-applying", "marker", r.join(switchMarkerName))
		return "", nil
	}
	active, err := r.readID(activeIDName)
	if err != nil {
		return "", err
	}
	if active == id {
		log.Info("bundle already active; nothing to download", "active_bundle_file", r.join(activeIDName))
		return OutcomeAlreadyActive, nil
	}
	baked, err := r.readID(bakedIDName)
	if err != nil {
		return "", err
	}
	// The AMI's files are the baked bundle only while no other bundle has
	// been applied over them.
	if baked == id && active == "" {
		log.Info("bundle baked into the AMI; nothing to download", "baked_bundle_file", r.join(bakedIDName))
		if err := writeAtomic(r.join(activeIDName), []byte(id+"\n")); err != nil {
			return "", fmt.Errorf("record %s as active: %w", id, err)
		}
		return OutcomeBaked, nil
	}
	return "", nil
}

// apply downloads, verifies and stages every asset, then switches.
func (sy *Syncer) apply(ctx context.Context, r root, p Pointer, log *slog.Logger) (Result, error) {
	obj, err := sy.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(sy.Bucket), Key: aws.String(p.ManifestKey())})
	if err != nil {
		return Result{}, fmt.Errorf("download manifest s3://%s/%s (does the bundle the pointer names exist?): %w", sy.Bucket, p.ManifestKey(), err)
	}
	m, err := ParseManifest(obj.Body, p)
	obj.Body.Close()
	if err != nil {
		return Result{}, refused(err)
	}
	prevRaw, err := r.readFileOrNil(installedPathsName)
	if err != nil {
		return Result{}, err
	}
	prev, bad := parseInstalledPaths(prevRaw, string(r))
	for _, b := range bad {
		log.Warn("ignoring a line of the installed paths file that is not a bundle path; it is never removed", "line", b)
	}

	stDir := r.join(stagingName)
	if err := os.RemoveAll(stDir); err != nil {
		return Result{}, fmt.Errorf("clear staging folder %s: %w", stDir, err)
	}
	defer os.RemoveAll(stDir)
	st, err := newStaging(stDir)
	if err != nil {
		return Result{}, err
	}
	res := Result{BundleID: p.ID, Outcome: OutcomeApplied, Assets: len(m.Assets)}
	newPaths := make([]string, 0, len(m.Assets))
	for i, a := range m.Assets {
		n, err := sy.stageAsset(ctx, st, i, a)
		if err == nil && sy.testHookAfterStage != nil {
			err = sy.testHookAfterStage(i)
		}
		if err != nil {
			return Result{}, fmt.Errorf("bundle %s assets[%d] (asset_id %s): %w", p.ID, i, string(a.AssetID), err)
		}
		res.Bytes += n
		newPaths = append(newPaths, a.Target())
		log.Info("bundle asset verified and staged", "asset", i, "asset_id", string(a.AssetID), "kind", a.Kind,
			"key", a.Key(), "target_path", a.Target(), "action", a.Action, "bytes", n, "sha256_checked", a.SHA256 != "")
	}
	removed, err := sy.switchIn(r, st, p.ID, newPaths, prev)
	if err != nil {
		return Result{}, fmt.Errorf("switch to bundle %s: %w", p.ID, err)
	}
	res.Removed = removed
	return res, nil
}

// lock keeps two syncs (the AMI bake and a manual run, say) from
// interleaving in one root.
func lock(r root) (func(), error) {
	f, err := os.OpenFile(r.join(lockName), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open lock %s: %w", r.join(lockName), err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("another bundle sync holds %s: %w", r.join(lockName), err)
	}
	return func() { f.Close() }, nil
}
