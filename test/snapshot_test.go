package test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/pmezard/go-difflib/difflib"
)

// assetHash matches content hashes of assets (Lambda code): they move with the
// Go toolchain, not with the infrastructure a reviewer should look at.
var assetHash = regexp.MustCompile(`[0-9a-f]{64}`)

// snapshot renders a template for the golden files: sorted keys, two-space
// indent, asset hashes replaced.
func snapshot(tpl Template) string {
	raw, _ := json.MarshalIndent(tpl, "", "  ")
	return assetHash.ReplaceAllString(string(raw), "<asset-hash>") + "\n"
}

// TestSnapshots compares every stack of both stages with its golden template
// in testdata/<stage>/<stack>.json. After a reviewed change run `make snapshot`.
func TestSnapshots(t *testing.T) {
	update := os.Getenv("UPDATE_SNAPSHOTS") == "1"
	for _, name := range []string{"staging", "production"} {
		b := stages[name]
		for _, kind := range b.kinds() {
			path := filepath.Join("testdata", name, kind+".json")
			got := snapshot(b.templates[kind])
			if update {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				continue
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Errorf("%s: no golden file (run `make snapshot`): %v", path, err)
				continue
			}
			if string(want) != got {
				diff, _ := difflib.GetUnifiedDiffString(difflib.UnifiedDiff{
					A: difflib.SplitLines(string(want)), B: difflib.SplitLines(got),
					FromFile: path, ToFile: "synthesized", Context: 3,
				})
				lines := strings.Split(diff, "\n")
				if len(lines) > 80 {
					lines = append(lines[:80], "... (diff truncated; run `make snapshot` and review `git diff test/testdata`)")
				}
				t.Errorf("%s differs from the synthesized template:\n%s", path, strings.Join(lines, "\n"))
			}
		}
	}
}
