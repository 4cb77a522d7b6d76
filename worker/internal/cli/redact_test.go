package cli_test

import (
	"net"
	"strconv"
	"strings"
	"testing"

	"github.com/bp/infra/worker/internal/fakes"
)

// presignedQuery has the query of an S3 SigV4 presigned URL.
const presignedQuery = "?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=ASIAEXAMPLE%2F20250101%2Fus-east-1%2Fs3%2Faws4_request" +
	"&X-Amz-Date=20250101T000000Z&X-Amz-Expires=3600&X-Amz-Security-Token=FwoGZXIvYXdzEXAMPLETOKEN" +
	"&X-Amz-SignedHeaders=host&X-Amz-Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"

// closedURL is an http URL on a port nothing listens on.
func closedURL(t *testing.T, path string) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr + path + presignedQuery
}

// A failed asset download and a failed output upload both name their URL in
// the logs (net/http quotes it in its error) and in the fail message: the
// presigned credentials must be in neither.
func TestPresignedURLCredentialsNeverReachLogsOrFailMessages(t *testing.T) {
	parallelFast(t)
	s := newStack(t)
	withAsset := workflow("in")
	withAsset["assets"] = []map[string]string{{"url": closedURL(t, "/inputs/cat.png"), "filename": "cat.png"}}
	download := s.backend.AddJob(withAsset)
	upload := s.backend.AddJob(workflow("out"))
	outURL := closedURL(t, "/outputs/out.png")
	s.backend.OutputURL = func(id int) string {
		if id == upload {
			return outURL
		}
		return s.backend.URL() + "/upload/" + strconv.Itoa(id)
	}
	w := s.start(t)
	eventually(t, "both jobs failed for good", func() bool {
		return s.backend.Job(download).State == fakes.Failed && s.backend.Job(upload).State == fakes.Failed
	})
	w.stop(t)
	logs := w.logs.String()
	for _, secret := range []string{"X-Amz-Signature", "X-Amz-Credential", "X-Amz-Security-Token", "5d672d79c15b", "ASIAEXAMPLE"} {
		if strings.Contains(logs, secret) {
			t.Fatalf("logs contain %s", secret)
		}
		for _, id := range []int{download, upload} {
			if msg := s.backend.Job(id).FailMessage; strings.Contains(msg, secret) {
				t.Fatalf("fail message of job %d contains %s: %q", id, secret, msg)
			}
		}
	}
	// The failures were logged, with the URL minus its query.
	for _, want := range []string{"/inputs/cat.png?REDACTED", "/outputs/out.png?REDACTED"} {
		if !strings.Contains(logs, want) {
			t.Fatalf("logs never mention %s: the test did not exercise the failing path", want)
		}
	}
	if msg := s.backend.Job(download).FailMessage; !strings.Contains(msg, "cat.png?REDACTED") || !strings.Contains(msg, "connection refused") {
		t.Fatalf("fail message %q", msg)
	}
	checkLedger(t, s)
}
