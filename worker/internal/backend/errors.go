package backend

import (
	"errors"
	"fmt"
	"net/http"
	"time"
)

// APIError is a reply with a non-2xx status, or a 2xx whose envelope says
// "success": false (Refused).
type APIError struct {
	Verb    string
	Status  int
	Message string
	// Refused: HTTP 2xx with "success": false, a refusal without a status.
	Refused    bool
	retryAfter time.Duration
}

func (e *APIError) Error() string {
	if e.Refused {
		return fmt.Sprintf("backend %s: HTTP %d with success=false: %s", e.Verb, e.Status, e.Message)
	}
	return fmt.Sprintf("backend %s: HTTP %d: %s", e.Verb, e.Status, e.Message)
}

// RetryAfter is the server's Retry-After hint (zero when absent).
func (e *APIError) RetryAfter() time.Duration { return e.retryAfter }

// Transient reports whether the call may succeed if simply tried again:
// rate limiting and server-side failures.
func (e *APIError) Transient() bool {
	return e.Status == http.StatusTooManyRequests || e.Status >= 500
}

// StatusOf returns the HTTP status of an APIError inside err, or 0.
func StatusOf(err error) int {
	var a *APIError
	if errors.As(err, &a) {
		return a.Status
	}
	return 0
}

// ErrUnauthorized: the bearer token (or fleet secret) was refused (401).
var ErrUnauthorized = errors.New("backend refused the credentials (401)")

// ErrLeaseLost: the backend no longer holds this worker's lease on the job
// (it expired, was taken back, or the job was finished elsewhere).
var ErrLeaseLost = errors.New("lease lost")

// leaseLostStatus lists the replies to a lease-bound call (heartbeat,
// complete, fail, requeue) that mean the lease is gone.
//
// The protocol names no error codes for these verbs (only register's), so the
// list is the narrow, conventional one of a Laravel API: 404 (the dispatch is
// unknown, or not leased to this worker: model not found), 409 (conflict: the
// lease token no longer matches, the lease expired or went to another worker)
// and 410 (gone). Everything else is NOT a lost lease, on purpose: 422 is
// Laravel's validation error (the request was wrong, the lease may be fine),
// 400/403 are refusals of this request, and a 200 with "success": false
// carries no status at all. Taking one of those for a lost lease would drop the
// job without fail or requeue and leave it leased until the lease (900 s)
// expires; the callers instead retry such a refusal a few times and then fail
// or requeue the job. README "Backend replies" has the table.
func leaseLostStatus(status int) bool {
	switch status {
	case http.StatusNotFound, http.StatusConflict, http.StatusGone:
		return true
	}
	return false
}

// IsTransient reports whether err is worth retrying: network failures, 429 and
// 5xx. Context cancellation, 4xx replies and the sentinels above are not.
func IsTransient(err error) bool {
	if err == nil || errors.Is(err, ErrUnauthorized) || errors.Is(err, ErrLeaseLost) {
		return false
	}
	var a *APIError
	if errors.As(err, &a) {
		return a.Transient()
	}
	var ne *networkError
	return errors.As(err, &ne)
}

type networkError struct{ err error }

func (n *networkError) Error() string { return n.err.Error() }
func (n *networkError) Unwrap() error { return n.err }
