package backend

import (
	"errors"
	"fmt"
	"net/http"
	"time"
)

// APIError is a reply with a non-2xx status or success=false.
type APIError struct {
	Verb       string
	Status     int
	Message    string
	retryAfter time.Duration
}

func (e *APIError) Error() string {
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
func leaseLostStatus(status int) bool {
	switch status {
	case http.StatusNotFound, http.StatusConflict, http.StatusGone, http.StatusUnprocessableEntity:
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
