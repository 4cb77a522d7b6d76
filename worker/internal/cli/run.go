package cli

import (
	"context"
	"errors"

	"github.com/bp/infra/bootcontract"
	"github.com/bp/infra/worker/internal/app"
	"github.com/bp/infra/worker/internal/awsclients"
	"github.com/bp/infra/worker/internal/runner"
)

func runCommand(ctx context.Context, args []string, env Env) int {
	cfg, err := load("run", args, env, nil)
	if err != nil {
		reportConfig(env.Stderr, err)
		return 2
	}
	if err := cfg.ValidateRun(); err != nil {
		reportConfig(env.Stderr, err)
		return 2
	}
	log := newLogger(env.Stderr, cfg.SlogLevel())
	cl, err := awsclients.New(ctx, log, awsOptions(cfg, env))
	if err != nil {
		log.Error("worker cannot start", "error", err.Error())
		return 1
	}
	r, err := app.NewRunner(ctx, cfg, cl, log)
	if err != nil {
		log.Error("worker cannot start", "error", err.Error())
		return 1
	}
	log.Info("worker starting", "api", cfg.APIBaseURL, "comfyui", cfg.ComfyUIURL, "asg", cfg.ASGName)
	if err := r.Run(ctx); err != nil {
		log.Error("worker stopped with an error", "error", err.Error())
		if errors.Is(err, runner.ErrComfyDown) {
			return bootcontract.ExitComfyUIUnavailable
		}
		return 1
	}
	log.Info("worker stopped")
	return 0
}
