package fakeaws

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// SecretsManager fakes GetSecretValue over the JSON 1.1 protocol.
type SecretsManager struct {
	Server *httptest.Server

	mu      sync.Mutex
	secrets map[string]string // ARN -> SecretString
	reads   []string
}

// NewSecretsManager starts the fake with secrets keyed by ARN.
func NewSecretsManager(t testing.TB, secrets map[string]string) *SecretsManager {
	s := &SecretsManager{secrets: map[string]string{}}
	for k, v := range secrets {
		s.secrets[k] = v
	}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Server.Close)
	return s
}

// Put sets or replaces a secret (simulates rotation).
func (s *SecretsManager) Put(arn, value string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.secrets[arn] = value
}

// Reads lists the SecretIds requested.
func (s *SecretsManager) Reads() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.reads...)
}

func (s *SecretsManager) serve(w http.ResponseWriter, r *http.Request) {
	writeErr := func(status int, typ, msg string) {
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(map[string]string{"__type": typ, "message": msg})
	}
	if target := r.Header.Get("X-Amz-Target"); target != "secretsmanager.GetSecretValue" {
		writeErr(http.StatusBadRequest, "UnknownOperationException", "fake does not implement "+target)
		return
	}
	if r.Header.Get("Authorization") == "" {
		writeErr(http.StatusBadRequest, "MissingAuthenticationTokenException", "request is not signed")
		return
	}
	var in struct {
		SecretID string `json:"SecretId"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		writeErr(http.StatusBadRequest, "SerializationException", err.Error())
		return
	}
	s.mu.Lock()
	s.reads = append(s.reads, in.SecretID)
	val, ok := s.secrets[in.SecretID]
	s.mu.Unlock()
	if !ok {
		writeErr(http.StatusBadRequest, "ResourceNotFoundException", "Secrets Manager can't find the specified secret.")
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"ARN": in.SecretID, "Name": "fake", "SecretString": val, "VersionId": "v1",
		"VersionStages": []string{"AWSCURRENT"}, "CreatedDate": 1.7e9,
	})
}
