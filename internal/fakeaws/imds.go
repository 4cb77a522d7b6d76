package fakeaws

import (
	"crypto/rand"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// IMDS fakes the EC2 instance metadata service, v2 only: a token from
// PUT /latest/api/token is required on every GET.
type IMDS struct {
	Server     *httptest.Server
	InstanceID string

	mu     sync.Mutex
	docs   map[string]string // meta-data path -> body; absent = 404
	tokens map[string]bool
	gets   int
}

// NewIMDS starts the fake for an in-service instance with no notices; it is
// closed at test cleanup.
func NewIMDS(t testing.TB, instanceID string) *IMDS {
	m := &IMDS{InstanceID: instanceID, tokens: map[string]bool{},
		docs: map[string]string{"instance-id": instanceID, "autoscaling/target-lifecycle-state": "InService"}}
	mux := http.NewServeMux()
	mux.HandleFunc("PUT /latest/api/token", m.serveToken)
	mux.HandleFunc("GET /latest/meta-data/{path...}", m.serveGet)
	m.Server = httptest.NewServer(mux)
	t.Cleanup(m.Server.Close)
	return m
}

// Set makes a metadata path answer body ("" removes it: 404).
func (m *IMDS) Set(path, body string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if body == "" {
		delete(m.docs, path)
		return
	}
	m.docs[path] = body
}

// SpotNotice publishes a Spot interruption notice.
func (m *IMDS) SpotNotice() {
	m.Set("spot/instance-action", `{"action":"terminate","time":"2030-01-01T00:00:00Z"}`)
}

// Gets counts metadata reads.
func (m *IMDS) Gets() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.gets
}

func (m *IMDS) serveToken(w http.ResponseWriter, r *http.Request) {
	ttl := r.Header.Get("X-aws-ec2-metadata-token-ttl-seconds")
	if ttl == "" {
		http.Error(w, "missing ttl", http.StatusBadRequest)
		return
	}
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	tok := hex.EncodeToString(b)
	m.mu.Lock()
	m.tokens[tok] = true
	m.mu.Unlock()
	w.Header().Set("X-aws-ec2-metadata-token-ttl-seconds", ttl)
	_, _ = io.WriteString(w, tok)
}

func (m *IMDS) serveGet(w http.ResponseWriter, r *http.Request) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.tokens[r.Header.Get("X-aws-ec2-metadata-token")] {
		http.Error(w, "", http.StatusUnauthorized)
		return
	}
	m.gets++
	body, ok := m.docs[strings.TrimSuffix(r.PathValue("path"), "/")]
	if !ok {
		http.NotFound(w, r)
		return
	}
	_, _ = io.WriteString(w, body)
}
