package backend

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/bp/infra/worker/internal/retry"
)

// The worker protocol (the Laravel backend's, which this worker must not
// change) says, word for word:
//
//	All calls are `POST <api-base>/api/worker/<verb>` with JSON; replies are
//	`{"success": bool, "data": {...}, "message": "..."}`.
//	- `heartbeat`: dispatch_id, lease_token, worker_id (extends the lease).
//	- `complete`: plus provider_job_id and output {size, mime_type}.
//	- `fail`: plus error_message (uses up an attempt).
//	- `requeue`: dispatch_id, lease_token, reason (back to the queue, no attempt used).
//	A lease lasts 900 s; a job is tried at most 3 times.
//
// It lists error codes for register only (401 bad secret, 403 fleet full, 404
// unknown fleet, 409 already registered, 422 fleet has no workflows, 429 rate
// limited, 503 not configured). For the lease-bound verbs the mapping below is
// Laravel's convention: 404 model not found (dispatch unknown to the backend or
// not leased to this worker), 409 conflict (lease token mismatch), 410 gone,
// 422 validation error, 401 token refused.
func TestLeaseLostMappingOfLeaseBoundVerbs(t *testing.T) {
	type want int
	const (
		leaseLost    want = iota // abandon the lease: nothing more to report
		refused                  // the request was refused: retry a few times, then fail/requeue
		unauthorized             // register again and resend
		transient                // retried by the client with backoff
	)
	cases := []struct {
		name   string
		status int
		body   string
		want   want
	}{
		{"404 dispatch unknown or not ours (Laravel model not found)", 404, `{"success":false,"message":"No query results for model [Dispatch]."}`, leaseLost},
		{"409 lease token mismatch or lease expired (conflict)", 409, `{"success":false,"message":"lease is not valid"}`, leaseLost},
		{"410 gone", 410, `{"success":false,"message":"dispatch already finished"}`, leaseLost},
		{"422 validation error: the request, not the lease", 422, `{"success":false,"message":"The output.size field is required.","errors":{"output.size":["The output.size field is required."]}}`, refused},
		{"200 with success:false: a refusal with no status", 200, `{"success":false,"data":{},"message":"could not complete"}`, refused},
		{"400 bad request", 400, `{"success":false,"message":"bad json"}`, refused},
		{"403 forbidden", 403, `{"success":false,"message":"This action is unauthorized."}`, refused},
		{"401 token refused", 401, `{"success":false,"message":"Unauthenticated."}`, unauthorized},
		{"429 rate limited", 429, `{"success":false,"message":"Too Many Attempts."}`, transient},
		{"503 unavailable", 503, `{"success":false,"message":"Service Unavailable"}`, transient},
	}
	verbs := map[string]func(c *Client) error{
		"heartbeat": func(c *Client) error {
			return c.Heartbeat(context.Background(), "tok", Lease{DispatchID: "7", LeaseToken: "lt", WorkerID: "i-1"})
		},
		"complete": func(c *Client) error {
			return c.Complete(context.Background(), "tok", Lease{DispatchID: "7", LeaseToken: "lt"}, "p-1", Output{Size: 1, MimeType: "image/png"})
		},
		"fail": func(c *Client) error {
			return c.Fail(context.Background(), "tok", Lease{DispatchID: "7", LeaseToken: "lt"}, "boom")
		},
		"requeue": func(c *Client) error {
			return c.Requeue(context.Background(), "tok", Lease{DispatchID: "7", LeaseToken: "lt"}, "shutdown")
		},
	}
	for _, tc := range cases {
		for verb, call := range verbs {
			t.Run(verb+"/"+tc.name, func(t *testing.T) {
				var calls int
				srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					calls++
					if !strings.HasSuffix(r.URL.Path, "/api/worker/"+verb) {
						t.Errorf("path %s", r.URL.Path)
					}
					w.Header().Set("Content-Type", "application/json")
					w.WriteHeader(tc.status)
					_, _ = w.Write([]byte(tc.body))
				}))
				defer srv.Close()
				c := &Client{BaseURL: srv.URL, HTTP: srv.Client(), Retry: retry.Policy{Initial: time.Millisecond, MaxAttempts: 3},
					Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
				err := call(c)
				if err == nil {
					t.Fatal("no error for a refusal")
				}
				got := map[bool]string{true: "lease lost", false: "not lease lost"}[errors.Is(err, ErrLeaseLost)]
				switch tc.want {
				case leaseLost:
					if !errors.Is(err, ErrLeaseLost) || calls != 1 {
						t.Fatalf("%v after %d calls: want lease lost at once", err, calls)
					}
				case refused:
					if errors.Is(err, ErrLeaseLost) || errors.Is(err, ErrUnauthorized) || IsTransient(err) || calls != 1 {
						t.Fatalf("%v (%s, transient %v) after %d calls: want a plain refusal, returned at once", err, got, IsTransient(err), calls)
					}
				case unauthorized:
					if !errors.Is(err, ErrUnauthorized) || errors.Is(err, ErrLeaseLost) {
						t.Fatalf("%v: want ErrUnauthorized", err)
					}
				case transient:
					if errors.Is(err, ErrLeaseLost) || calls != 3 {
						t.Fatalf("%v (%s) after %d calls: want retried to MaxAttempts", err, got, calls)
					}
				}
				if !strings.Contains(err.Error(), "backend "+verb) {
					t.Fatalf("error %q does not name the verb", err)
				}
			})
		}
	}
}
