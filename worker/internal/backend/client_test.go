package backend

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/bp/infra/worker/internal/retry"
)

func TestDispatchIDRoundTripsNumbersAndStrings(t *testing.T) {
	for _, in := range []string{`{"dispatch_id":42}`, `{"dispatch_id":"d-7"}`} {
		var j Job
		if err := json.Unmarshal([]byte(in), &j); err != nil {
			t.Fatal(err)
		}
		out, _ := json.Marshal(Lease{DispatchID: j.DispatchID})
		var back map[string]json.RawMessage
		_ = json.Unmarshal(out, &back)
		var orig map[string]json.RawMessage
		_ = json.Unmarshal([]byte(in), &orig)
		if string(back["dispatch_id"]) != string(orig["dispatch_id"]) {
			t.Fatalf("%s came back as %s", orig["dispatch_id"], back["dispatch_id"])
		}
	}
	var j Job
	if err := json.Unmarshal([]byte(`{"dispatch_id":{"x":1}}`), &j); err == nil {
		t.Fatal("an object dispatch_id must be refused")
	}
}

func TestErrorMapping(t *testing.T) {
	status := http.StatusOK
	body := `{"success":true,"data":{}}`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	defer srv.Close()
	c := &Client{BaseURL: srv.URL, HTTP: srv.Client(), Retry: retry.Policy{Initial: time.Millisecond, MaxAttempts: 2}}
	ctx := context.Background()
	l := Lease{DispatchID: "1", LeaseToken: "t"}

	status, body = http.StatusConflict, `{"success":false,"message":"lease expired"}`
	if err := c.Heartbeat(ctx, "tok", l); !errors.Is(err, ErrLeaseLost) {
		t.Fatalf("409 on heartbeat: %v", err)
	}
	status = http.StatusUnauthorized
	if _, err := c.Poll(ctx, "tok", PollRequest{}); !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("401: %v", err)
	}
	status = http.StatusServiceUnavailable
	before := c.Calls()
	if _, err := c.Poll(ctx, "tok", PollRequest{}); StatusOf(err) != 503 || c.Calls()-before != 2 {
		t.Fatalf("503: %v after %d calls, want retried to MaxAttempts", err, c.Calls()-before)
	}
	status = http.StatusBadRequest
	before = c.Calls()
	if _, err := c.Poll(ctx, "tok", PollRequest{}); StatusOf(err) != 400 || c.Calls()-before != 1 {
		t.Fatalf("400 must not be retried: %v", err)
	}
	status, body = http.StatusOK, `{"success":false,"message":"nope"}`
	if err := c.Complete(ctx, "tok", l, "p", Output{}); errors.Is(err, ErrLeaseLost) || StatusOf(err) != 200 {
		t.Fatalf("success=false on complete is a refusal, not a lost lease: %v", err)
	}
	status, body = http.StatusOK, `{"success":true,"data":{"job":null}}`
	if job, err := c.Poll(ctx, "tok", PollRequest{}); err != nil || job != nil {
		t.Fatalf("empty poll: %v %v", job, err)
	}
}
