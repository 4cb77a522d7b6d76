package test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// requirementsDoc is the page that maps every item of the review of the old
// stacks (and every outside contract) to the code and tests that close it.
var requirementsDoc = filepath.Join("..", "docs", "requirements.md")

// reqItemCounts is how many items each category of the review has (deploy
// blockers, architecture gaps, cost hotspots, risk-register rows, immediate
// actions); the page must have one "### <letter><n>." section for each.
var reqItemCounts = map[string]int{"B": 8, "G": 4, "C": 5, "R": 8, "A": 5}

var (
	reqSpan       = regexp.MustCompile("`([^`\n]+)`")
	reqCitation   = regexp.MustCompile(`^([a-z][a-z0-9_]*(?:/[a-z0-9_]+)*)\.(Test[A-Za-z0-9_]*)$`)
	reqHeading    = regexp.MustCompile(`^### ([A-Z])([0-9]+)\. `)
	reqFilePath   = regexp.MustCompile(`^[A-Za-z0-9_.-]+(?:/[A-Za-z0-9_.-]+)+\.[a-z0-9]{1,8}$`)
	reqName       = regexp.MustCompile(`<[a-z0-9_]+>`)
	reqTestFunc   = regexp.MustCompile(`(?m)^func (Test[A-Za-z0-9_]*)\(`)
	reqLooksCited = regexp.MustCompile(`(^|\.)Test[A-Z0-9_]`)
)

// reqLine is one line of the page with its backticked spans.
type reqLine struct {
	n     int
	text  string
	spans []string
}

func readRequirements(t *testing.T) []reqLine {
	t.Helper()
	raw, err := os.ReadFile(requirementsDoc)
	if err != nil {
		t.Fatalf("read %s: %v", requirementsDoc, err)
	}
	var out []reqLine
	for i, text := range strings.Split(string(raw), "\n") {
		l := reqLine{n: i + 1, text: text}
		for _, m := range reqSpan.FindAllStringSubmatch(text, -1) {
			l.spans = append(l.spans, m[1])
		}
		out = append(out, l)
	}
	return out
}

// TestRequirementsCiteRealTests reads docs/requirements.md and fails when a
// cited test (`package.TestName`, the package being its folder from the
// repository root) has no `func TestName(` in a _test.go file of that folder,
// when a cited repository file is missing, when a review item cites no test,
// when a category of the review lost or gained an item, or when a cited
// `<app>-...` name is in none of the synthesized snapshots. It reads files
// only.
func TestRequirementsCiteRealTests(t *testing.T) {
	lines := readRequirements(t)

	t.Run("every backtick is closed on its line", func(t *testing.T) {
		// A span broken over two lines would hide its citation from the checks.
		for _, l := range lines {
			if strings.Count(l.text, "`")%2 != 0 {
				t.Errorf("docs/requirements.md:%d: odd number of backticks: %s", l.n, l.text)
			}
		}
	})

	t.Run("cited tests exist", func(t *testing.T) {
		funcs := map[string]map[string]bool{} // package folder -> its Test functions
		cited := map[string]bool{}
		for _, l := range lines {
			for _, span := range l.spans {
				m := reqCitation.FindStringSubmatch(span)
				if m == nil {
					if reqLooksCited.MatchString(span) {
						t.Errorf("docs/requirements.md:%d: %q is not a citation of the form package.TestName (name a test that does not exist yet without backticks)", l.n, span)
					}
					continue
				}
				pkg, name := m[1], m[2]
				cited[span] = true
				if name == "TestMain" {
					t.Errorf("docs/requirements.md:%d: %s: TestMain proves nothing", l.n, span)
					continue
				}
				defined, ok := funcs[pkg]
				if !ok {
					defined = reqTestFuncs(t, pkg)
					funcs[pkg] = defined
				}
				if defined == nil {
					t.Errorf("docs/requirements.md:%d: %s: folder %s has no _test.go files", l.n, span, pkg)
					continue
				}
				if !defined[name] {
					t.Errorf("docs/requirements.md:%d: %s: no func %s( in %s/*_test.go", l.n, span, name, pkg)
				}
			}
		}
		// The page cites well over a hundred tests; far fewer means the parsing broke.
		if len(cited) < 100 {
			t.Errorf("only %d distinct tests cited; the citation parsing is broken", len(cited))
		}
	})

	t.Run("cited repository files exist", func(t *testing.T) {
		checked := 0
		for _, l := range lines {
			for _, span := range l.spans {
				if !reqFilePath.MatchString(span) || reqCitation.MatchString(span) {
					continue // not a repository path; "/..." is a path on an instance or in AWS
				}
				checked++
				if _, err := os.Stat(filepath.Join("..", filepath.FromSlash(span))); err != nil {
					t.Errorf("docs/requirements.md:%d: cited file %s does not exist", l.n, span)
				}
			}
		}
		if checked < 20 {
			t.Errorf("only %d file paths found; the path parsing is broken", checked)
		}
	})

	t.Run("every review item is there and cites a test", func(t *testing.T) {
		type item struct {
			id    string
			line  int
			tests int
		}
		var items []*item
		var cur *item
		for _, l := range lines {
			if strings.HasPrefix(l.text, "#") {
				cur = nil
			}
			if m := reqHeading.FindStringSubmatch(l.text); m != nil {
				cur = &item{id: m[1] + m[2], line: l.n}
				items = append(items, cur)
			}
			if cur == nil {
				continue
			}
			for _, span := range l.spans {
				if reqCitation.MatchString(span) {
					cur.tests++
				}
			}
		}
		byCategory := map[string][]string{}
		for _, it := range items {
			byCategory[it.id[:1]] = append(byCategory[it.id[:1]], it.id)
			if it.tests == 0 {
				t.Errorf("docs/requirements.md:%d: item %s cites no test (if none proves it, move it to Open)", it.line, it.id)
			}
		}
		for cat, n := range reqItemCounts {
			var want []string
			for i := 1; i <= n; i++ {
				want = append(want, fmt.Sprintf("%s%d", cat, i))
			}
			if got := byCategory[cat]; !slices.Equal(got, want) {
				t.Errorf("category %s: items %v, want %v (the review has %d)", cat, got, want, n)
			}
		}
		if len(byCategory["S"]) < 4 {
			t.Errorf("contracts: %v, want at least CI/CD names, backend formats, AMI pipeline and model bundles", byCategory["S"])
		}
	})

	t.Run("cited names are synthesized", func(t *testing.T) {
		synthesized := reqSnapshotStrings(t)
		checked := 0
		for _, l := range lines {
			for _, span := range l.spans {
				if !strings.HasPrefix(span, "<app>-") || strings.ContainsAny(span, " /") {
					continue
				}
				checked++
				re := reqNamePattern(span)
				if !slices.ContainsFunc(synthesized, re.MatchString) {
					t.Errorf("docs/requirements.md:%d: %s names nothing in test/testdata/*/*.json (pattern %s)", l.n, span, re)
				}
			}
		}
		if checked < 10 {
			t.Errorf("only %d <app>-... names found; the name parsing is broken", checked)
		}
	})
}

// reqTestFuncs lists the `func TestX(` declarations of the _test.go files of
// a folder given relative to the repository root (nil when it has none).
func reqTestFuncs(t *testing.T, pkg string) map[string]bool {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", filepath.FromSlash(pkg), "*_test.go"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		return nil
	}
	out := map[string]bool{}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range reqTestFunc.FindAllSubmatch(raw, -1) {
			out[string(m[1])] = true
		}
	}
	return out
}

// reqNamePattern turns "<app>-<stage>-<slug>-stuck" into an anchored regexp:
// <app> is bp, <stage> one of the stages, any other placeholder a name part.
func reqNamePattern(name string) *regexp.Regexp {
	var sb strings.Builder
	sb.WriteString("^")
	last := 0
	for _, loc := range reqName.FindAllStringIndex(name, -1) {
		sb.WriteString(regexp.QuoteMeta(name[last:loc[0]]))
		switch name[loc[0]:loc[1]] {
		case "<app>":
			sb.WriteString("bp")
		case "<stage>":
			sb.WriteString("(?:staging|production)")
		default:
			sb.WriteString("[A-Za-z0-9-]+")
		}
		last = loc[1]
	}
	sb.WriteString(regexp.QuoteMeta(name[last:]))
	sb.WriteString("$")
	return regexp.MustCompile(sb.String())
}

// reqSnapshotStrings lists every string value of the committed snapshots of
// both stages' templates.
func reqSnapshotStrings(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "*", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no snapshots in testdata (%v)", err)
	}
	seen := map[string]bool{}
	var collect func(v any)
	collect = func(v any) {
		switch x := v.(type) {
		case string:
			seen[x] = true
		case map[string]any:
			for _, c := range x {
				collect(c)
			}
		case []any:
			for _, c := range x {
				collect(c)
			}
		}
	}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var v any
		if err := json.Unmarshal(raw, &v); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		collect(v)
	}
	out := make([]string, 0, len(seen))
	for s := range seen {
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}
