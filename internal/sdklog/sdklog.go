// Package sdklog routes the AWS SDK's own log lines into a slog.Logger.
//
// Without it, config.LoadDefaultConfig gives every client
// logging.NewStandardLogger(os.Stderr), which prints plain text
// ("SDK 2026/12/01 20:24:48 WARN failed to discard remaining HTTP response
// body, ...") between the JSON lines of the worker and the Lambdas: a line
// that no JSON query or metric filter matches, and that skips the worker's
// redaction of presigned URLs. The tests of the worker's clients
// (worker/internal/awsclients) and of the Lambdas' config
// (lambdas/internal/boot) drive a real SDK client into that warning.
package sdklog

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/smithy-go/logging"
)

// Component is the value of the "component" attribute on every line the SDK
// logs, so a query tells them from the caller's own.
const Component = "aws-sdk"

// Option makes the SDK clients of a loaded config log into log.
func Option(log *slog.Logger) func(*config.LoadOptions) error {
	return config.WithLogger(New(log))
}

// New is a logging.Logger writing to log at the level the SDK classifies
// each line with (Warn, Debug; anything else at Info).
func New(log *slog.Logger) logging.Logger {
	return logger{log.With("component", Component)}
}

type logger struct{ log *slog.Logger }

func (l logger) Logf(c logging.Classification, format string, v ...any) {
	l.log.Log(context.Background(), level(c), fmt.Sprintf(format, v...))
}

func level(c logging.Classification) slog.Level {
	switch c {
	case logging.Warn:
		return slog.LevelWarn
	case logging.Debug:
		return slog.LevelDebug
	}
	return slog.LevelInfo
}
