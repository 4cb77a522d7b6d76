// Package logjson builds the JSON slog logger every Lambda in this module uses,
// so CloudWatch Logs Insights can query the same fields across functions.
package logjson

import (
	"io"
	"log/slog"
	"os"
	"strings"
)

// New returns a JSON logger writing to w. The level comes from LOG_LEVEL
// (debug, info, warn, error; default info).
func New(w io.Writer) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: levelFromEnv()}))
}

// Default returns a JSON logger on stdout, where Lambda collects logs.
func Default() *slog.Logger { return New(os.Stdout) }

func levelFromEnv() slog.Level {
	switch strings.ToLower(os.Getenv("LOG_LEVEL")) {
	case "debug":
		return slog.LevelDebug
	case "warn", "warning":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	default:
		return slog.LevelInfo
	}
}
