package state

import (
	"encoding/json"
	"path/filepath"
	"time"
)

// Runtime is what the worker holds right now: a leased job and whether scale-in
// protection may be on. After a crash the next start reads it to requeue the
// job and clear protection, so neither is lost nor left stuck.
type Runtime struct {
	DispatchID json.RawMessage `json:"dispatch_id,omitempty"`
	LeaseToken string          `json:"lease_token,omitempty"`
	Protected  bool            `json:"protected"`
	UpdatedAt  time.Time       `json:"updated_at"`
}

// HasJob reports whether a job lease is recorded.
func (r Runtime) HasJob() bool { return len(r.DispatchID) > 0 && r.LeaseToken != "" }

// RuntimeStore keeps Runtime in one file.
type RuntimeStore struct{ Path string }

// RuntimePathBeside is the runtime file next to the token file.
func RuntimePathBeside(tokenFile string) string {
	return filepath.Join(filepath.Dir(tokenFile), "runtime.json")
}

// Load returns the stored state (zero when none).
func (s RuntimeStore) Load() (Runtime, error) {
	var r Runtime
	_, err := readJSON(s.Path, &r)
	return r, err
}

// Save replaces the stored state, or removes the file when there is nothing to
// remember.
func (s RuntimeStore) Save(r Runtime) error {
	if !r.HasJob() && !r.Protected {
		return remove(s.Path)
	}
	r.UpdatedAt = time.Now().UTC()
	return writeJSON(s.Path, r)
}
