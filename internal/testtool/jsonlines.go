package testtool

import (
	"encoding/json"
	"strings"
	"testing"
)

// JSONLines decodes a log of one JSON object a line, failing the test on a
// line that is not one; blank lines (the last newline's) are none.
func JSONLines(t testing.TB, log string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(log, "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line is not a JSON object: %q\nthe whole log:\n%s", line, log)
		}
		out = append(out, rec)
	}
	return out
}
