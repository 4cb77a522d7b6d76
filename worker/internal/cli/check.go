package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"time"

	"github.com/bp/infra/bootcontract"
	"github.com/bp/infra/worker/internal/comfyui"
	"github.com/bp/infra/worker/internal/config"
	"github.com/bp/infra/worker/internal/redact"
)

// checkCommand: `worker check` validates config and pings ComfyUI;
// `worker check --offline` only proves the binary runs and the env file (if
// any) parses, which is what the AMI build can check before any env exists.
func checkCommand(ctx context.Context, args []string, env Env) int {
	var offline bool
	cfg, err := load("check", args, env, func(fs *flag.FlagSet) {
		fs.BoolVar(&offline, "offline", false, "check only the binary and the env file syntax, no network")
	})
	if err != nil {
		reportConfig(env.Stderr, err)
		return 2
	}
	if offline {
		return checkOffline(cfg, env)
	}
	if err := cfg.ValidateRun(); err != nil {
		reportConfig(env.Stderr, err)
		return 2
	}
	fmt.Fprintln(env.Stdout, "config: ok")
	c := &comfyui.Client{BaseURL: cfg.ComfyUIURL, HTTP: &http.Client{Timeout: 5 * time.Second}}
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := c.Ping(pctx); err != nil {
		fmt.Fprintf(env.Stderr, "comfyui: not reachable at %s: %s (is %s running?)\n", redact.URL(cfg.ComfyUIURL), redact.Text(err.Error()), bootcontract.ComfyUIUnit)
		return 1
	}
	fmt.Fprintln(env.Stdout, "comfyui: ok")
	return 0
}

func checkOffline(cfg *config.Config, env Env) int {
	fmt.Fprintln(env.Stdout, "binary: ok")
	path := cfg.EnvFile
	if path == "" {
		path = bootcontract.EnvFile
	}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		fmt.Fprintf(env.Stdout, "env file: %s not present yet (written at boot by the fleet user data)\n", path)
		return 0
	}
	if err != nil {
		fmt.Fprintf(env.Stderr, "env file: %v\n", err)
		return 1
	}
	defer f.Close()
	if _, err := config.ParseEnvFile(f, path); err != nil {
		reportConfig(env.Stderr, err)
		return 2
	}
	fmt.Fprintf(env.Stdout, "env file: %s syntax ok\n", path)
	return 0
}
