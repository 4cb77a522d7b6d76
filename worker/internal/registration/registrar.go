// Package registration obtains and keeps this worker's backend token: from
// memory, else from the token file, else by registering with the fleet secret.
// It turns the backend's refusals into waits instead of a crash loop.
package registration

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/bp/infra/worker/internal/backend"
	"github.com/bp/infra/worker/internal/retry"
	"github.com/bp/infra/worker/internal/state"
)

// SecretSource returns the fleet secret (Secrets Manager or env).
type SecretSource func(ctx context.Context) (string, error)

// DefaultAttempts caps the register calls one Token call makes; the caller
// (poll loop, heartbeat) then gets the error and paces the next try itself.
const DefaultAttempts = 5

// Registrar hands out the token. Safe for concurrent use: one registration
// runs at a time (the others wait for it, or for their own context), and no
// lock is held while it runs, so Current and a valid token are never blocked.
type Registrar struct {
	Backend *backend.Client
	Store   state.TokenStore
	Secret  SecretSource
	Request backend.RegisterRequest
	// Retry paces register attempts that the backend refused; its Max should be
	// minutes in production so a misconfigured fleet does not hammer the API.
	Retry retry.Policy
	// Attempts caps register calls per Token call (DefaultAttempts when zero).
	Attempts int
	Log      *slog.Logger

	mu      sync.Mutex
	token   string
	refused string  // the token the backend last refused (401); kept on disk
	flight  *flight // the registration in progress, if any
	secret  string  // only touched by the flight's owner
}

// flight is one registration other callers can wait for.
type flight struct {
	done chan struct{}
	err  error
}

// Token returns a usable token, registering when needed. It waits for a
// registration already in progress rather than starting a second one, and
// gives up after Attempts register calls or when ctx ends.
func (r *Registrar) Token(ctx context.Context) (string, error) {
	for {
		if err := ctx.Err(); err != nil {
			return "", err
		}
		r.mu.Lock()
		if r.token != "" {
			tok := r.token
			r.mu.Unlock()
			return tok, nil
		}
		if f := r.flight; f != nil {
			r.mu.Unlock()
			select {
			case <-f.done:
			case <-ctx.Done():
				return "", ctx.Err()
			}
			// Another caller's context ending is not our failure: try again.
			if f.err != nil && !errors.Is(f.err, context.Canceled) && !errors.Is(f.err, context.DeadlineExceeded) {
				return "", f.err
			}
			continue
		}
		f := &flight{done: make(chan struct{})}
		r.flight = f
		refused := r.refused
		r.mu.Unlock()

		tok, err := r.obtain(ctx, refused)
		r.mu.Lock()
		if err == nil {
			r.token = tok
		}
		f.err = err
		r.flight = nil
		r.mu.Unlock()
		close(f.done)
		return tok, err
	}
}

// obtain reads the token file, else registers. A token the backend refused is
// not reused from the file; it is only taken again when register says 409.
func (r *Registrar) obtain(ctx context.Context, refused string) (string, error) {
	if tok := r.loadPersisted(); tok != "" && tok != refused {
		r.Log.Info("reusing persisted registration token", "file", r.Store.Path)
		return tok, nil
	}
	return r.register(ctx, refused)
}

// Invalidate drops token (after a 401) from memory, unless a newer token
// already replaced it. The file is kept until a register succeeds: if the
// backend still knows this worker (409), that token is the only way back.
func (r *Registrar) Invalidate(token string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.token != token {
		return
	}
	r.token, r.refused = "", token
	r.Log.Warn("backend refused the token (401); the worker will register again")
}

// Forget drops the token after a successful deregister.
func (r *Registrar) Forget() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.token = ""
	if err := r.Store.Delete(); err != nil {
		r.Log.Error("could not delete token file after deregister", "error", err.Error())
	}
}

// Current returns the token held in memory, or "" (no registration attempt).
func (r *Registrar) Current() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.token
}

// loadPersisted returns the stored token if it belongs to this worker id.
func (r *Registrar) loadPersisted() string {
	t, err := r.Store.Load()
	if err != nil {
		r.Log.Error("ignoring unreadable token file", "file", r.Store.Path, "error", err.Error())
		return ""
	}
	if t == nil {
		return ""
	}
	if t.WorkerID != r.Request.WorkerID || t.FleetSlug != r.Request.FleetSlug || t.Stage != r.Request.Stage {
		r.Log.Warn("ignoring token file of another worker or fleet", "file", r.Store.Path,
			"file_worker_id", t.WorkerID, "file_fleet", t.FleetSlug, "file_stage", t.Stage)
		return ""
	}
	return t.Token
}

func (r *Registrar) register(ctx context.Context, refused string) (string, error) {
	var token string
	p := r.Retry
	p.MaxAttempts = r.Attempts
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = DefaultAttempts
	}
	p.OnRetry = func(attempt int, err error, wait time.Duration) {
		r.Log.Error("registration failed, will retry", "attempt", attempt, "wait", wait.String(), "error", err.Error())
	}
	err := retry.Do(ctx, p, func(ctx context.Context) error {
		tok, err := r.registerOnce(ctx, refused)
		token = tok
		return err
	})
	if err != nil {
		return "", fmt.Errorf("register worker %s: %w", r.Request.WorkerID, err)
	}
	return token, nil
}

// registerOnce makes one register call and explains a refusal. Refusals are
// retried (a few times here, then by the caller's own pacing), never fatal: a
// worker that exits would only be restarted by systemd into the same refusal.
func (r *Registrar) registerOnce(ctx context.Context, refused string) (string, error) {
	if r.secret == "" {
		s, err := r.Secret(ctx)
		if err != nil {
			return "", fmt.Errorf("read fleet secret: %w", err)
		}
		r.secret = s
	}
	reg, err := r.Backend.Register(ctx, r.secret, r.Request)
	if err == nil {
		t := state.Token{WorkerID: r.Request.WorkerID, Token: reg.Token, FleetSlug: r.Request.FleetSlug,
			Stage: r.Request.Stage, APIBaseURL: r.Backend.BaseURL, RegisteredAt: time.Now().UTC()}
		if serr := r.Store.Save(t); serr != nil {
			// The token still works from memory; a crash would cost a 409 wait.
			r.Log.Error("registered but could not persist the token", "file", r.Store.Path, "error", serr.Error())
		}
		r.Log.Info("registered with backend")
		return reg.Token, nil
	}
	switch {
	case errors.Is(err, backend.ErrUnauthorized):
		r.secret = "" // it may have been rotated: read it again next time
		return "", fmt.Errorf("fleet secret refused (401): the secret behind WORKER_FLEET_SECRET_ARN (or WORKER_FLEET_SECRET) must equal the backend COMFYUI_FLEET_SECRET: %w", err)
	case backend.StatusOf(err) == http.StatusConflict:
		if tok := r.loadPersisted(); tok != "" {
			if tok == refused {
				// 401 then 409: the backend knows this worker but refused its
				// token. Use it again (the 401 may have been transient); the
				// caller's backoff paces the cycle until either works.
				r.Log.Error("backend says already registered (409) but refused the persisted token (401) before; retrying with it. If this repeats, an operator must remove the worker in the backend so it can register again",
					"worker_id", r.Request.WorkerID, "file", r.Store.Path)
				return tok, nil
			}
			r.Log.Info("backend says already registered (409); using the persisted token")
			return tok, nil
		}
		return "", fmt.Errorf("worker id %s is already registered (409) and no token is persisted in %s, so it cannot deregister itself; an operator must remove the worker in the backend (or wait for it to expire it): %w",
			r.Request.WorkerID, r.Store.Path, err)
	case backend.StatusOf(err) == http.StatusForbidden:
		return "", fmt.Errorf("fleet %s is full (403): %w", r.Request.FleetSlug, err)
	case backend.StatusOf(err) == http.StatusNotFound:
		return "", fmt.Errorf("backend does not know fleet %q (404): check WORKER_FLEET_SLUG: %w", r.Request.FleetSlug, err)
	case backend.StatusOf(err) == http.StatusUnprocessableEntity:
		return "", fmt.Errorf("fleet %s has no workflows yet (422): %w", r.Request.FleetSlug, err)
	case backend.StatusOf(err) == http.StatusServiceUnavailable:
		return "", fmt.Errorf("backend worker API is not configured (503): %w", err)
	}
	return "", err
}

// WithToken runs fn with a token; on a 401 it drops the token, registers again
// and runs fn once more.
func (r *Registrar) WithToken(ctx context.Context, fn func(token string) error) error {
	for attempt := 0; ; attempt++ {
		tok, err := r.Token(ctx)
		if err != nil {
			return err
		}
		err = fn(tok)
		if !errors.Is(err, backend.ErrUnauthorized) || attempt >= 1 {
			return err
		}
		r.Invalidate(tok)
	}
}
