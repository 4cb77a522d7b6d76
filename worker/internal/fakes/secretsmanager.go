package fakes

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
)

// SecretsManager fakes GetSecretValue over the JSON 1.1 protocol.
type SecretsManager struct {
	Server *httptest.Server

	mu      sync.Mutex
	secrets map[string]string // ARN -> SecretString
	reads   int
}

// NewSecretsManager starts the fake with the given ARN -> value map.
func NewSecretsManager(secrets map[string]string) *SecretsManager {
	s := &SecretsManager{secrets: secrets}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// Close stops the server.
func (s *SecretsManager) Close() { s.Server.Close() }

// Put replaces a secret's value (rotation).
func (s *SecretsManager) Put(arn, value string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.secrets[arn] = value
}

// Reads counts GetSecretValue calls.
func (s *SecretsManager) Reads() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reads
}

func (s *SecretsManager) serve(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	if r.Header.Get("X-Amz-Target") != "secretsmanager.GetSecretValue" {
		w.WriteHeader(http.StatusBadRequest)
		_ = json.NewEncoder(w).Encode(map[string]string{"__type": "UnknownOperationException", "message": r.Header.Get("X-Amz-Target")})
		return
	}
	var in struct{ SecretId string }
	_ = json.NewDecoder(r.Body).Decode(&in)
	s.mu.Lock()
	s.reads++
	v, ok := s.secrets[in.SecretId]
	s.mu.Unlock()
	if !ok {
		w.WriteHeader(http.StatusBadRequest)
		_ = json.NewEncoder(w).Encode(map[string]string{"__type": "ResourceNotFoundException", "message": "Secrets Manager can't find the specified secret."})
		return
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"ARN": in.SecretId, "Name": "fleet", "SecretString": v,
		"VersionId": "v1", "VersionStages": []string{"AWSCURRENT"}, "CreatedDate": 1.7e9})
}
