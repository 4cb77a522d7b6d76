// Package boot is what every Lambda does before lambda.Start: a JSON logger
// and the AWS config, exiting with a logged reason when either fails.
//
// Each handler package (lambdas/<name>) wires itself in Handler, and only its
// tiny main (lambdas/cmd/<name>) imports aws-lambda-go/lambda: that package
// registers its net/rpc mode in an init unless built with -tags lambda.norpc
// (as the deployed binaries are), and net/rpc's reflective method lookup makes
// the linker keep every exported method of every linked type, so a handler's
// test binary would link whole AWS SDKs (TestNoTestBinaryLinksNetRPC).
package boot

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/bp/infra/internal/sdklog"
	"github.com/bp/infra/lambdas/internal/logjson"
)

// AWS returns the logger and the default AWS config of the function.
func AWS() (*slog.Logger, aws.Config) {
	log := logjson.Default()
	cfg, err := loadConfig(log)
	if err != nil {
		fail(log, "load AWS config", err)
	}
	return log, cfg
}

// loadConfig is the default config whose clients log the SDK's own lines (its
// warnings) into log, as JSON like the function's; more options (tests) load
// before that.
func loadConfig(log *slog.Logger, more ...func(*config.LoadOptions) error) (aws.Config, error) {
	return config.LoadDefaultConfig(context.Background(), append(more, sdklog.Option(log))...)
}

// AWSAndEnv is AWS plus the function's environment as load decodes it from
// the process environment; a bad environment ends the process like fail.
func AWSAndEnv[E any](load func(getenv func(string) string) (E, error)) (*slog.Logger, aws.Config, E) {
	log, cfg := AWS()
	env, err := load(os.Getenv)
	if err != nil {
		fail(log, "invalid environment", err)
	}
	return log, cfg, env
}

// fail logs why the function cannot start and exits; Lambda reports the init error.
func fail(log *slog.Logger, what string, err error) {
	log.Error(what, "error", err.Error())
	os.Exit(1)
}
