package redact

import (
	"bytes"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"testing"
)

// presigned has the shape of an S3 SigV4 presigned URL (AWS documents the
// query parameters X-Amz-Algorithm, X-Amz-Credential, X-Amz-Date,
// X-Amz-Expires, X-Amz-SignedHeaders, X-Amz-Security-Token, X-Amz-Signature).
const presigned = "https://bp-staging-outputs.s3.us-east-1.amazonaws.com/jobs/42/out.png" +
	"?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=ASIAEXAMPLE%2F20250101%2Fus-east-1%2Fs3%2Faws4_request" +
	"&X-Amz-Date=20250101T000000Z&X-Amz-Expires=3600&X-Amz-Security-Token=IQoJb3JpZ2luX2VjEXAMPLE" +
	"&X-Amz-SignedHeaders=host&X-Amz-Signature=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func TestURL(t *testing.T) {
	for in, want := range map[string]string{
		presigned: "https://bp-staging-outputs.s3.us-east-1.amazonaws.com/jobs/42/out.png?REDACTED",
		"http://127.0.0.1:8188/view?filename=a.png&type=output": "http://127.0.0.1:8188/view?REDACTED",
		"https://user:pw@api.example.com/api/worker/poll":       "https://REDACTED@api.example.com/api/worker/poll",
		"https://api.example.com/api/worker/poll":               "https://api.example.com/api/worker/poll",
		"https://host?x=1":    "https://host?REDACTED",
		"https://host/p#frag": "https://host/p?REDACTED",
	} {
		if got := URL(in); got != want {
			t.Errorf("URL(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestTextRedactsTheURLsNetHTTPQuotesInItsErrors(t *testing.T) {
	// The real error net/http returns for an unreachable presigned URL.
	req, _ := http.NewRequest(http.MethodGet, strings.Replace(presigned, "https://bp-staging-outputs.s3.us-east-1.amazonaws.com", "http://127.0.0.1:1", 1), nil)
	_, err := http.DefaultClient.Do(req)
	if err == nil || !strings.Contains(err.Error(), "X-Amz-Signature") {
		t.Fatalf("precondition: net/http error should quote the URL, got %v", err)
	}
	got := Text("download asset cat.png: " + err.Error())
	if strings.Contains(got, "X-Amz-") || strings.Contains(got, "0123456789abcdef") {
		t.Fatalf("secret left in %q", got)
	}
	if !strings.Contains(got, `"http://127.0.0.1:1/jobs/42/out.png?REDACTED"`) || !strings.Contains(got, "connection refused") {
		t.Fatalf("redaction lost the useful part: %q", got)
	}
}

func TestReplaceAttrCoversMessageStringsErrorsAndWithAttrs(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{ReplaceAttr: ReplaceAttr}))
	log.With("url", presigned).Warn("PUT "+presigned+" failed",
		"error", errors.New(`Put "`+presigned+`": EOF`), "stringer", stringer(presigned), "n", 3)
	out := buf.String()
	if strings.Contains(out, "X-Amz-Signature") || strings.Contains(out, "X-Amz-Security-Token") {
		t.Fatalf("log line keeps the signature:\n%s", out)
	}
	if strings.Count(out, "out.png?REDACTED") != 4 || !strings.Contains(out, `"n":3`) {
		t.Fatalf("log line:\n%s", out)
	}
}

type stringer string

func (s stringer) String() string { return string(s) }
