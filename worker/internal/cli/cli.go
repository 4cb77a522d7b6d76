// Package cli parses the command line and runs one of the worker's commands:
// run (the daemon, default), check, sync-bundle.
package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/bp/infra/bootcontract"
	"github.com/bp/infra/worker/internal/awsclients"
	"github.com/bp/infra/worker/internal/config"
	"github.com/bp/infra/worker/internal/redact"
)

// Env is the process environment and standard streams.
type Env struct {
	Lookup config.Lookup
	Stdout io.Writer
	Stderr io.Writer
	// AWS overrides endpoints (tests); zero value means SDK defaults.
	AWS awsclients.Options
}

const usage = `usage: worker [run|check|sync-bundle] [flags]

  run          run the GPU worker daemon (default)
  check        check config and that ComfyUI answers; --offline checks only the
               binary and the env file's syntax (no network)
  sync-bundle  install the fleet's active model bundle under the ComfyUI root
               (--root, default /opt/comfyui; --bake and --expect-bundle-id
               for the AMI build); exit 0 done, 1 failed, 2 bad config,
               3 bundle refused (the previous bundle stays in both cases)
`

// Main runs a command and returns the process exit code.
func Main(ctx context.Context, args []string, env Env) int {
	cmd := "run"
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "run":
		ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM, os.Interrupt)
		defer stop()
		return runCommand(ctx, args, env)
	case "check":
		return checkCommand(ctx, args, env)
	case "sync-bundle":
		return syncBundleCommand(ctx, args, env)
	case "help", "-h", "--help":
		fmt.Fprint(env.Stdout, usage)
		return 0
	}
	fmt.Fprintf(env.Stderr, "unknown command %q\n%s", cmd, usage)
	return 2
}

// load parses flags and the environment; it returns the config and the
// problems found in the env file, if one was given.
func load(name string, args []string, env Env, extra func(*flag.FlagSet)) (*config.Config, error) {
	cfg := &config.Config{}
	fs := flag.NewFlagSet("worker "+name, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	cfg.AddFlags(fs)
	if extra != nil {
		extra(fs)
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	var fileVals map[string]string
	if cfg.EnvFile != "" {
		f, err := os.Open(cfg.EnvFile)
		if err != nil {
			return nil, fmt.Errorf("-env-file: %w", err)
		}
		fileVals, err = config.ParseEnvFile(f, cfg.EnvFile)
		f.Close()
		if err != nil {
			return nil, err
		}
	}
	cfg.LoadEnv(env.Lookup, fileVals)
	return cfg, nil
}

// newLogger logs JSON lines; every value goes through redact, so no URL's
// query string (a presigned URL's credentials) reaches the logs.
func newLogger(w io.Writer, level slog.Level) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level, ReplaceAttr: redact.ReplaceAttr}))
}

func awsOptions(cfg *config.Config, env Env) awsclients.Options {
	o := env.AWS
	o.Region = cfg.Region
	return o
}

// reportConfig prints every config problem, one per line.
func reportConfig(w io.Writer, err error) {
	fmt.Fprintln(w, "worker: invalid configuration (env file "+bootcontract.EnvFile+" and flags):")
	for _, e := range flatten(err) {
		fmt.Fprintln(w, "  -", redact.Text(e.Error()))
	}
}

// flatten lists the leaves of errors.Join trees.
func flatten(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, flatten(e)...)
		}
		return out
	}
	return []error{err}
}
