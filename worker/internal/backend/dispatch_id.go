package backend

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// DispatchID keeps the job id exactly as the backend sent it (a JSON number
// or string) so it is echoed back in the same form.
type DispatchID string

// MarshalJSON writes the id as it was received.
func (d DispatchID) MarshalJSON() ([]byte, error) {
	if d == "" {
		return []byte("null"), nil
	}
	return []byte(d), nil
}

// UnmarshalJSON accepts a number or a string.
func (d *DispatchID) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || string(b) == "null" {
		*d = ""
		return nil
	}
	if b[0] != '"' && (b[0] < '0' || b[0] > '9') {
		return fmt.Errorf("dispatch_id must be a number or a string, got %s", b)
	}
	if !json.Valid(b) {
		return fmt.Errorf("dispatch_id is not valid JSON: %s", b)
	}
	*d = DispatchID(b)
	return nil
}

// String is the id for logs.
func (d DispatchID) String() string {
	var s string
	if json.Unmarshal([]byte(d), &s) == nil {
		return s
	}
	return string(d)
}
