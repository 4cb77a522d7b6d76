package cli

import (
	"context"

	"github.com/bp/infra/worker/internal/awsclients"
	"github.com/bp/infra/worker/internal/bundle"
)

func syncBundleCommand(ctx context.Context, args []string, env Env) int {
	cfg, err := load("sync-bundle", args, env, nil)
	if err != nil {
		reportConfig(env.Stderr, err)
		return 2
	}
	if err := cfg.ValidateSyncBundle(); err != nil {
		reportConfig(env.Stderr, err)
		return 2
	}
	log := newLogger(env.Stderr, cfg.SlogLevel())
	cl, err := awsclients.New(ctx, awsOptions(cfg, env))
	if err != nil {
		log.Error("bundle sync cannot start", "error", err.Error())
		return 1
	}
	s := &bundle.Syncer{S3: cl.S3, SSM: cl.SSM, Bucket: cfg.ModelsBucket, Param: cfg.ActiveBundleParam,
		ModelsDir: cfg.ModelsDir, AppliedFile: cfg.BakedBundleFile, Log: log}
	res, err := s.Sync(ctx)
	if err != nil {
		log.Error("bundle sync failed", "error", err.Error())
		return 1
	}
	log.Info("bundle sync finished", "bundle_id", res.BundleID, "skipped", res.Skipped, "entries", res.Entries)
	return 0
}
