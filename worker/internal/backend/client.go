// Package backend speaks the worker protocol of the Laravel backend:
// POST <base>/api/worker/<verb> with JSON, replies {success, data, message}.
package backend

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/bp/infra/worker/internal/grace"
	"github.com/bp/infra/worker/internal/retry"
)

// Client calls the backend. Every method retries network errors, 429 and 5xx
// with Retry until ctx ends; other failures are returned at once.
type Client struct {
	BaseURL string
	HTTP    *http.Client
	Retry   retry.Policy
	Log     *slog.Logger

	calls atomic.Int64
}

// Calls is how many HTTP requests the client has sent (for metrics and tests).
func (c *Client) Calls() int64 { return c.calls.Load() }

// Register asks for a token with the fleet secret.
func (c *Client) Register(ctx context.Context, secret string, req RegisterRequest) (Registration, error) {
	var out Registration
	err := c.callRetrying(ctx, "register", map[string]string{"X-Fleet-Secret": secret}, req, &out)
	if err == nil && out.Token == "" {
		return out, fmt.Errorf("backend register: reply has no data.token")
	}
	return out, err
}

// Poll asks for a job; it returns nil when there is none.
func (c *Client) Poll(ctx context.Context, token string, req PollRequest) (*Job, error) {
	var out pollData
	if err := c.callRetrying(ctx, "poll", bearer(token), req, &out); err != nil {
		return nil, err
	}
	if out.Job != nil && (out.Job.DispatchID == "" || out.Job.LeaseToken == "") {
		return nil, fmt.Errorf("backend poll: job without dispatch_id or lease_token")
	}
	return out.Job, nil
}

// Heartbeat extends the lease. ErrLeaseLost means the job must be abandoned.
func (c *Client) Heartbeat(ctx context.Context, token string, l Lease) error {
	return leaseCall(c.callRetrying(ctx, "heartbeat", bearer(token), l, nil))
}

// Complete reports success with the uploaded output.
func (c *Client) Complete(ctx context.Context, token string, l Lease, providerJobID string, out Output) error {
	return leaseCall(c.callRetrying(ctx, "complete", bearer(token),
		completeRequest{Lease: l, ProviderJobID: providerJobID, Output: out}, nil))
}

// Fail reports a failed attempt with a message for the user.
func (c *Client) Fail(ctx context.Context, token string, l Lease, message string) error {
	return leaseCall(c.callRetrying(ctx, "fail", bearer(token), failRequest{Lease: l, ErrorMessage: message}, nil))
}

// Requeue gives the job back without using an attempt.
func (c *Client) Requeue(ctx context.Context, token string, l Lease, reason string) error {
	return leaseCall(c.callRetrying(ctx, "requeue", bearer(token), requeueRequest{Lease: l, Reason: reason}, nil))
}

// Deregister removes this worker; its token is invalid afterwards.
func (c *Client) Deregister(ctx context.Context, token string) error {
	return c.callRetrying(ctx, "deregister", bearer(token), struct{}{}, nil)
}

func bearer(token string) map[string]string {
	return map[string]string{"Authorization": "Bearer " + token}
}

// leaseCall maps the "lease is gone" replies of lease-bound verbs to ErrLeaseLost.
func leaseCall(err error) error {
	var a *APIError
	if errors.As(err, &a) && !a.Refused && leaseLostStatus(a.Status) {
		return fmt.Errorf("%w: %w", ErrLeaseLost, err)
	}
	return err
}

func (c *Client) callRetrying(ctx context.Context, verb string, headers map[string]string, body, out any) error {
	p := c.Retry
	p.OnRetry = func(attempt int, err error, wait time.Duration) {
		c.logger().Warn("backend call failed, retrying", "verb", verb, "attempt", attempt,
			"wait", wait.String(), "error", err.Error())
	}
	return retry.Do(ctx, p, func(ctx context.Context) error {
		// Retries stop with ctx; a request already sent may get its grace.
		actx, cancel := grace.Attempt(ctx)
		defer cancel()
		err := c.call(actx, verb, headers, body, out)
		if err != nil && !IsTransient(err) {
			return retry.Permanent(err)
		}
		return err
	})
}

func (c *Client) logger() *slog.Logger {
	if c.Log != nil {
		return c.Log
	}
	return slog.Default()
}

// call sends one request and decodes data into out.
func (c *Client) call(ctx context.Context, verb string, headers map[string]string, body, out any) error {
	payload, err := json.Marshal(body)
	if err != nil {
		return fmt.Errorf("backend %s: encode body: %w", verb, err)
	}
	url := strings.TrimRight(c.BaseURL, "/") + "/api/worker/" + verb
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(payload))
	if err != nil {
		return fmt.Errorf("backend %s: build request: %w", verb, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	c.calls.Add(1)
	resp, err := c.HTTP.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("backend %s: %w", verb, ctx.Err())
		}
		return &networkError{fmt.Errorf("backend %s: %w", verb, err)}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return &networkError{fmt.Errorf("backend %s: read reply: %w", verb, err)}
	}
	var env envelope
	jsonErr := json.Unmarshal(raw, &env)
	if resp.StatusCode == http.StatusUnauthorized {
		return fmt.Errorf("backend %s: %w: %s", verb, ErrUnauthorized, messageOf(env, raw))
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return &APIError{Verb: verb, Status: resp.StatusCode, Message: messageOf(env, raw),
			retryAfter: parseRetryAfter(resp.Header.Get("Retry-After"))}
	}
	if jsonErr != nil {
		return &APIError{Verb: verb, Status: resp.StatusCode, Message: "reply is not JSON: " + jsonErr.Error()}
	}
	if !env.Success {
		// A 2xx that says it failed: a refusal, but not a lost lease (no status
		// says the lease is gone), and not worth an immediate retry.
		return &APIError{Verb: verb, Status: resp.StatusCode, Refused: true, Message: messageOf(env, raw)}
	}
	if out != nil && len(env.Data) > 0 && string(env.Data) != "null" {
		if err := json.Unmarshal(env.Data, out); err != nil {
			return fmt.Errorf("backend %s: decode data: %w", verb, err)
		}
	}
	return nil
}

func messageOf(env envelope, raw []byte) string {
	if env.Message != "" {
		return env.Message
	}
	s := strings.TrimSpace(string(raw))
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	if s == "" {
		return "(empty reply)"
	}
	return s
}

func parseRetryAfter(v string) time.Duration {
	if v == "" {
		return 0
	}
	if secs, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && secs >= 0 {
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return time.Until(t)
	}
	return 0
}
