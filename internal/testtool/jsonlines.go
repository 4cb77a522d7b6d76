package testtool

import (
	"encoding/json"
	"strings"
	"testing"
)

// JSONLines decodes a log of one JSON object a line, failing the test on a
// line that is not one. An empty log has no lines.
func JSONLines(t testing.TB, log string) []map[string]any {
	t.Helper()
	var out []map[string]any
	if strings.TrimSpace(log) == "" {
		return nil
	}
	for _, line := range strings.Split(strings.TrimSpace(log), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line is not a JSON object: %q\nthe whole log:\n%s", line, log)
		}
		out = append(out, rec)
	}
	return out
}
