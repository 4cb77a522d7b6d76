package state

import (
	"fmt"
	"time"
)

// Token is the persisted registration of this worker.
type Token struct {
	WorkerID     string    `json:"worker_id"`
	Token        string    `json:"token"`
	APIBaseURL   string    `json:"api_base_url"`
	FleetSlug    string    `json:"fleet_slug"`
	Stage        string    `json:"stage"`
	RegisteredAt time.Time `json:"registered_at"`
}

// TokenStore keeps the token in one file (bootcontract.WorkerTokenFile in
// production).
type TokenStore struct{ Path string }

// Load returns the stored token, or nil when none is stored.
func (s TokenStore) Load() (*Token, error) {
	var t Token
	found, err := readJSON(s.Path, &t)
	if err != nil || !found {
		return nil, err
	}
	if t.Token == "" {
		return nil, fmt.Errorf("token file %s has an empty token", s.Path)
	}
	return &t, nil
}

// Save stores t with mode 0600.
func (s TokenStore) Save(t Token) error { return writeJSON(s.Path, t) }

// Delete forgets the token.
func (s TokenStore) Delete() error { return remove(s.Path) }
