package lambdabuild

import (
	"path/filepath"
	"testing"

	"github.com/bp/infra/internal/testtool"
)

// TestBuildKeyFollowsEverySource: editing a package the handler imports, the
// handler itself or go.mod gives a new key; an untouched handler keeps its key.
func TestBuildKeyFollowsEverySource(t *testing.T) {
	t.Parallel()
	mod := t.TempDir()
	write := func(rel, text string) { testtool.WriteFile(t, mod, rel, text) }
	write("go.mod", "module example.com/m\n\ngo 1.24\n")
	write("fn/shared/shared.go", "package shared\n\nfunc Answer() int { return 41 }\n")
	write("fn/a/main.go", "package main\n\nimport \"example.com/m/fn/shared\"\n\nfunc main() { println(shared.Answer()) }\n")
	write("fn/b/main.go", "package main\n\nfunc main() { println(1) }\n")
	keys := func() map[string]string {
		t.Helper()
		k, err := buildKeys(mod, "./fn/...")
		if err != nil {
			t.Fatal(err)
		}
		if len(k) != 2 {
			t.Fatalf("want keys for the two main packages, got %v", k)
		}
		return k
	}
	a, b := filepath.Join(mod, "fn", "a"), filepath.Join(mod, "fn", "b")
	first := keys()
	if again := keys(); again[a] != first[a] || again[b] != first[b] {
		t.Fatalf("keys of unchanged sources moved: %v then %v", first, again)
	}
	steps := []struct {
		what           string
		edit           func()
		aMoves, bMoves bool
	}{
		{"a dependency's body", func() { write("fn/shared/shared.go", "package shared\n\nfunc Answer() int { return 42 }\n") }, true, false},
		{"the handler", func() {
			write("fn/a/main.go", "package main\n\nimport \"example.com/m/fn/shared\"\n\nfunc main() { println(shared.Answer() + 1) }\n")
		}, true, false},
		{"go.mod", func() { write("go.mod", "module example.com/m\n\ngo 1.24\n\ngodebug panicnil=1\n") }, true, true},
	}
	prev := first
	for _, s := range steps {
		s.edit()
		now := keys()
		if (now[a] != prev[a]) != s.aMoves || (now[b] != prev[b]) != s.bMoves {
			t.Errorf("after editing %s: a moved %v (want %v), b moved %v (want %v)", s.what,
				now[a] != prev[a], s.aMoves, now[b] != prev[b], s.bMoves)
		}
		prev = now
	}
}
