package registration

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bp/infra/worker/internal/backend"
	"github.com/bp/infra/worker/internal/fakes"
	"github.com/bp/infra/worker/internal/retry"
	"github.com/bp/infra/worker/internal/state"
)

type lockedBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}
func (l *lockedBuf) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

func newRegistrar(t *testing.T, fb *fakes.Backend, secret string) (*Registrar, *lockedBuf) {
	t.Helper()
	logs := &lockedBuf{}
	pol := retry.Policy{Initial: time.Millisecond, Max: 5 * time.Millisecond}
	return &Registrar{
		Backend: &backend.Client{BaseURL: fb.URL(), HTTP: http.DefaultClient, Retry: pol, Log: slog.New(slog.NewJSONHandler(logs, nil))},
		Store:   state.TokenStore{Path: filepath.Join(t.TempDir(), "token.json")},
		Secret:  func(context.Context) (string, error) { return secret, nil },
		Request: backend.RegisterRequest{WorkerID: "i-1", MaxConcurrency: 1, FleetSlug: "gpu-default", Stage: "staging"},
		Retry:   pol,
		Log:     slog.New(slog.NewJSONHandler(logs, nil)),
	}, logs
}

func TestConflictWithPersistedTokenUsesIt(t *testing.T) {
	fb := fakes.NewBackend("s")
	defer fb.Close()
	tok := fb.PreRegister("i-1")
	r, _ := newRegistrar(t, fb, "s")
	if err := r.Store.Save(state.Token{WorkerID: "i-1", Token: tok, FleetSlug: "gpu-default", Stage: "staging"}); err != nil {
		t.Fatal(err)
	}
	got, err := r.Token(context.Background())
	if err != nil || got != tok || fb.Calls("register") != 0 {
		t.Fatalf("token %q err %v register calls %d", got, err, fb.Calls("register"))
	}
	// A token file of another instance is ignored.
	_ = r.Store.Save(state.Token{WorkerID: "i-other", Token: "x", FleetSlug: "gpu-default", Stage: "staging"})
	r.token = ""
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := r.Token(ctx); err == nil {
		t.Fatal("want the 409 wait to end with the context")
	}
}

func TestConflictWithoutTokenRetriesAndExplains(t *testing.T) {
	fb := fakes.NewBackend("s")
	defer fb.Close()
	fb.PreRegister("i-1")
	r, logs := newRegistrar(t, fb, "s")
	go func() {
		// An operator removes the stale registration while the worker waits.
		for fb.Calls("register") < 3 {
			time.Sleep(time.Millisecond)
		}
		fb.Forget("i-1")
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	tok, err := r.Token(ctx)
	if err != nil || tok == "" {
		t.Fatalf("token %q err %v", tok, err)
	}
	if !strings.Contains(logs.String(), "already registered (409) and no token is persisted") {
		t.Fatalf("409 not explained in logs:\n%s", logs.String())
	}
}

func TestUnauthorizedCallDropsTokenAndRegistersAgain(t *testing.T) {
	fb := fakes.NewBackend("s")
	defer fb.Close()
	r, _ := newRegistrar(t, fb, "s")
	ctx := context.Background()
	first, err := r.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	fb.Forget("i-1")
	var used []string
	err = r.WithToken(ctx, func(tok string) error {
		used = append(used, tok)
		_, err := r.Backend.Poll(ctx, tok, backend.PollRequest{WorkerID: "i-1", MaxConcurrency: 1})
		return err
	})
	if err != nil || len(used) != 2 || used[0] != first || used[1] == first {
		t.Fatalf("err %v tokens used %v", err, used)
	}
	saved, _ := r.Store.Load()
	if saved == nil || saved.Token != used[1] {
		t.Fatal("new token not persisted")
	}
}

func TestBadSecretIsRetriedAndRereadNotFatal(t *testing.T) {
	fb := fakes.NewBackend("right")
	defer fb.Close()
	r, logs := newRegistrar(t, fb, "")
	var mu sync.Mutex
	reads := 0
	r.Secret = func(context.Context) (string, error) {
		mu.Lock()
		defer mu.Unlock()
		reads++
		if reads < 3 {
			return "wrong", nil
		}
		return "right", nil // rotated into place
	}
	tok, err := r.Token(context.Background())
	if err != nil || tok == "" || reads != 3 {
		t.Fatalf("tok %q err %v reads %d", tok, err, reads)
	}
	if !strings.Contains(logs.String(), "fleet secret refused (401)") {
		t.Fatal("401 not explained")
	}
}

func TestUnauthorizedThenConflictReusesTheKeptTokenInsteadOfHanging(t *testing.T) {
	fb := fakes.NewBackend("s")
	defer fb.Close()
	tok := fb.PreRegister("i-1")
	r, logs := newRegistrar(t, fb, "s")
	if err := r.Store.Save(state.Token{WorkerID: "i-1", Token: tok, FleetSlug: "gpu-default", Stage: "staging"}); err != nil {
		t.Fatal(err)
	}
	// The backend refuses the token twice (a blip) while it still knows the worker.
	fb.Fault = func(verb string, n int) (int, string, bool) {
		return http.StatusUnauthorized, "", verb == "poll" && n <= 2
	}
	poll := func(ctx context.Context) error {
		return r.WithToken(ctx, func(tok string) error {
			_, err := r.Backend.Poll(ctx, tok, backend.PollRequest{WorkerID: "i-1", MaxConcurrency: 1})
			return err
		})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	start := time.Now()
	err := poll(ctx)
	if !errors.Is(err, backend.ErrUnauthorized) || time.Since(start) > time.Second {
		t.Fatalf("err %v after %v: a 401 then 409 must come back to the caller, not wait for the context", err, time.Since(start))
	}
	if saved, _ := r.Store.Load(); saved == nil || saved.Token != tok {
		t.Fatal("the refused token file must be kept until a register succeeds")
	}
	if !strings.Contains(logs.String(), "an operator must remove the worker") {
		t.Fatalf("401-then-409 not explained:\n%s", logs.String())
	}
	if err := poll(ctx); err != nil {
		t.Fatalf("once the backend takes the token again the worker must recover: %v", err)
	}
	if got := fb.Calls("register"); got != 1 {
		t.Fatalf("register called %d times, want the one 409", got)
	}
}

func TestRegisterGivesUpAfterCappedAttemptsPerCall(t *testing.T) {
	fb := fakes.NewBackend("s")
	defer fb.Close()
	fb.PreRegister("i-1") // 409 and no token file
	r, _ := newRegistrar(t, fb, "s")
	r.Attempts = 3
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := r.Token(ctx); err == nil || ctx.Err() != nil {
		t.Fatalf("err %v ctx %v: Token must give up after its attempts, before the context ends", err, ctx.Err())
	}
	if got := fb.Calls("register"); got != 3 {
		t.Fatalf("register called %d times, want 3", got)
	}
}

func TestRegistrationHoldsNoLockAndRunsOnce(t *testing.T) {
	fb := fakes.NewBackend("s")
	defer fb.Close()
	r, _ := newRegistrar(t, fb, "s")
	release := make(chan struct{})
	r.Secret = func(ctx context.Context) (string, error) {
		select {
		case <-release:
			return "s", nil
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
	type res struct {
		tok string
		err error
	}
	first, second := make(chan res, 1), make(chan res, 1)
	go func() { tok, err := r.Token(context.Background()); first <- res{tok, err} }()
	time.Sleep(20 * time.Millisecond) // the first call is now registering
	go func() { tok, err := r.Token(context.Background()); second <- res{tok, err} }()

	quick := make(chan struct{})
	go func() {
		_ = r.Current()
		short, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		if _, err := r.Token(short); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("a waiter with a short context got %v, want its deadline", err)
		}
		close(quick)
	}()
	select {
	case <-quick:
	case <-time.After(2 * time.Second):
		t.Fatal("Current/Token blocked behind a registration in progress")
	}
	close(release)
	a, b := <-first, <-second
	if a.err != nil || b.err != nil || a.tok == "" || a.tok != b.tok {
		t.Fatalf("first %+v second %+v: both must get the one new token", a, b)
	}
	if got := fb.Calls("register"); got != 1 {
		t.Fatalf("register called %d times, want one registration for concurrent callers", got)
	}
}
