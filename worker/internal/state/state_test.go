package state

import (
	"os"
	"path/filepath"
	"testing"
)

func TestTokenRoundTripWithMode0600(t *testing.T) {
	dir := t.TempDir()
	s := TokenStore{Path: filepath.Join(dir, "sub", "token.json")}
	if tok, err := s.Load(); err != nil || tok != nil {
		t.Fatalf("empty store: tok=%v err=%v", tok, err)
	}
	if err := s.Save(Token{WorkerID: "i-1", Token: "secret"}); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(s.Path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, want 0600", fi.Mode().Perm())
	}
	tok, err := s.Load()
	if err != nil || tok == nil || tok.Token != "secret" || tok.WorkerID != "i-1" {
		t.Fatalf("load: %+v %v", tok, err)
	}
	if err := s.Delete(); err != nil {
		t.Fatal(err)
	}
	if tok, _ := s.Load(); tok != nil {
		t.Fatalf("token still there after Delete")
	}
}

func TestRuntimeSaveRemovesFileWhenIdle(t *testing.T) {
	s := RuntimeStore{Path: filepath.Join(t.TempDir(), "runtime.json")}
	if err := s.Save(Runtime{DispatchID: []byte(`7`), LeaseToken: "l", Protected: true}); err != nil {
		t.Fatal(err)
	}
	r, err := s.Load()
	if err != nil || !r.HasJob() || !r.Protected || string(r.DispatchID) != "7" {
		t.Fatalf("load: %+v %v", r, err)
	}
	if err := s.Save(Runtime{}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(s.Path); !os.IsNotExist(err) {
		t.Fatalf("runtime file should be gone when idle, stat err=%v", err)
	}
}

func TestCorruptTokenFileIsAnError(t *testing.T) {
	p := filepath.Join(t.TempDir(), "token.json")
	if err := os.WriteFile(p, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := (TokenStore{Path: p}).Load(); err == nil {
		t.Fatal("want a decode error for a corrupt file")
	}
}
