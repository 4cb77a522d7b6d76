package registration

import (
	"bytes"
	"context"
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
