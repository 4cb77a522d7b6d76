package testtool

import (
	"encoding/json"
	"strings"
	"testing"
)

// JSONLines decodes a log of one JSON object a line, failing the test on a
// line that is not one (a blank line included). An empty log has no lines.
func JSONLines(t testing.TB, log string) []map[string]any {
	t.Helper()
	if log == "" {
		return nil
	}
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSuffix(log, "\n"), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line is not a JSON object: %q\nthe whole log:\n%s", line, log)
		}
		out = append(out, rec)
	}
	return out
}
