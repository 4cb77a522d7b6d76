package sdklog_test

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/aws/smithy-go/logging"

	"github.com/bp/infra/internal/sdklog"
	"github.com/bp/infra/internal/testtool"
)

// The SDK's classifications map to slog levels: a Debug line stays out of an
// Info logger, a Warn line is a WARN, anything else an INFO.
func TestSDKClassificationsBecomeSlogLevels(t *testing.T) {
	var out bytes.Buffer
	l := sdklog.New(slog.New(slog.NewJSONHandler(&out, &slog.HandlerOptions{Level: slog.LevelInfo})))
	l.Logf(logging.Debug, "debug %d", 1)
	l.Logf(logging.Warn, "warn %d", 2)
	l.Logf(logging.Classification("OTHER"), "other %d", 3)
	var got []string
	for _, rec := range testtool.JSONLines(t, out.String()) {
		got = append(got, rec["level"].(string)+" "+rec["msg"].(string))
	}
	if want := []string{"WARN warn 2", "INFO other 3"}; strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("logged %q, want %q", got, want)
	}
}
