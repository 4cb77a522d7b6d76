// Package sdklogtest drives the AWS SDK into logging its own warning and
// checks where the warning went: for the tests of every config that routes
// the SDK's lines through sdklog (the worker's clients, the Lambdas').
package sdklogtest

import (
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/bp/infra/internal/sdklog"
	"github.com/bp/infra/internal/testtool"
)

// discardWarning is the AWS SDK's own warning when it cannot read the rest
// of a response body it closes (smithy-go transport/http,
// middleware_close_response_body.go, CloseResponseBody): what a download
// cancelled mid-body makes it log.
const discardWarning = "failed to discard remaining HTTP response body, this may affect connection reuse"

// BrokenBodyClient answers every request 200 with body, and then fails the
// read as a connection closed mid-body does: net's read error wrapping
// net.ErrClosed ("use of closed network connection").
func BrokenBodyClient(contentType, body string) *http.Client {
	broken := &net.OpError{Op: "read", Net: "tcp", Err: net.ErrClosed}
	return &http.Client{Transport: roundTripper(func(r *http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: http.StatusOK, Request: r, ContentLength: -1,
			Header: http.Header{"Content-Type": {contentType}},
			Body:   io.NopCloser(io.MultiReader(strings.NewReader(body), failingReader{broken})),
		}, nil
	})}
}

// NoAmbientAWS keeps this machine's AWS settings out of a config load: no
// shared config or credentials file, and no CA bundle (with one, the SDK
// refuses an *http.Client it cannot add the bundle to).
func NoAmbientAWS(t testing.TB) {
	t.Setenv("AWS_CA_BUNDLE", "")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_CONFIG_FILE", t.TempDir()+"/none")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", t.TempDir()+"/none")
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

type failingReader struct{ err error }

func (f failingReader) Read([]byte) (int, error) { return 0, f.err }

// RequireWarning fails the test unless log (JSON lines) holds the SDK's
// discardWarning at WARN, marked as the SDK's.
func RequireWarning(t testing.TB, log string) {
	t.Helper()
	for _, rec := range testtool.JSONLines(t, log) {
		if msg, _ := rec["msg"].(string); strings.HasPrefix(msg, discardWarning) {
			if rec["level"] != "WARN" || rec["component"] != sdklog.Component {
				t.Fatalf("the SDK's warning logged as %v", rec)
			}
			return
		}
	}
	t.Fatalf("the SDK's warning %q is not in the log:\n%s", discardWarning, log)
}
