package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"

	"github.com/bp/infra/bootcontract"
	"github.com/bp/infra/worker/internal/awsclients"
	"github.com/bp/infra/worker/internal/bundle"
)

// Exit codes of `worker sync-bundle` (comfyui-bundle-sync.service; the worker
// unit requires it, so anything but 0 keeps the worker from starting).
const (
	syncExitOK      = 0 // the active bundle (or none) is on disk
	syncExitFailed  = 1 // could not read the pointer, manifest or an asset (network, IAM); previous bundle kept
	syncExitConfig  = 2 // bad flags or environment
	syncExitRefused = 3 // the bundle itself is wrong (manifest, sha256, paths); previous bundle kept
)

type syncFlags struct {
	root     string
	bake     bool
	expectID string
}

func (f *syncFlags) add(fs *flag.FlagSet) {
	fs.StringVar(&f.root, "root", bootcontract.ComfyUIHome, "ComfyUI root the bundle installs into (target_path is relative to it)")
	fs.BoolVar(&f.bake, "bake", false, "AMI build: also record the bundle in <root>/"+baseName(bootcontract.BakedBundleIDFile))
	fs.StringVar(&f.expectID, "expect-bundle-id", "", "refuse, before downloading, a pointer naming another bundle (AMI build)")
}

func syncBundleCommand(ctx context.Context, args []string, env Env) int {
	var sf syncFlags
	cfg, err := load("sync-bundle", args, env, sf.add)
	if err != nil {
		reportConfig(env.Stderr, err)
		return syncExitConfig
	}
	verr := cfg.ValidateSyncBundle()
	if !strings.HasPrefix(sf.root, "/") {
		verr = errors.Join(verr, fmt.Errorf("-root=%q: use an absolute path, default %s", sf.root, bootcontract.ComfyUIHome))
	}
	if verr != nil {
		reportConfig(env.Stderr, verr)
		return syncExitConfig
	}
	log := newLogger(env.Stderr, cfg.SlogLevel()).With("command", "sync-bundle", "root", sf.root)
	cl, err := awsclients.New(ctx, log, awsOptions(cfg, env))
	if err != nil {
		log.Error("bundle sync cannot start", "error", err.Error())
		return syncExitFailed
	}
	s := &bundle.Syncer{S3: cl.S3, SSM: cl.SSM, Bucket: cfg.ModelsBucket, Param: cfg.ActiveBundleParam,
		Root: sf.root, Bake: sf.bake, ExpectID: sf.expectID, Log: log}
	res, err := s.Sync(ctx)
	if err != nil {
		code := syncExitFailed
		var r *bundle.RefusedError
		if errors.As(err, &r) {
			code = syncExitRefused
		}
		log.Error("bundle sync failed; the previous bundle is left as it was", "bundle_id", res.BundleID,
			"error", err.Error(), "exit_code", code, "refused", code == syncExitRefused)
		return code
	}
	log.Info("bundle sync finished", "bundle_id", res.BundleID, "outcome", string(res.Outcome), "assets", res.Assets,
		"bytes", res.Bytes, "removed_paths", res.Removed, "baked", sf.bake)
	return syncExitOK
}

func baseName(p string) string { return p[strings.LastIndex(p, "/")+1:] }
