// Package boot is what every Lambda's main does before lambda.Start: a JSON
// logger and the AWS config, exiting with a logged reason when either fails.
package boot

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/bp/infra/lambdas/internal/logjson"
)

// AWS returns the logger and the default AWS config of the function.
func AWS() (*slog.Logger, aws.Config) {
	log := logjson.Default()
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		Fail(log, "load AWS config", err)
	}
	return log, cfg
}

// Fail logs why the function cannot start and exits; Lambda reports the init error.
func Fail(log *slog.Logger, what string, err error) {
	log.Error(what, "error", err.Error())
	os.Exit(1)
}
