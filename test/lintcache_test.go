package test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/bp/infra/internal/filecache"
)

// lintCache keeps cfn-lint's findings on each template it linted, under a
// key of cfn-lint's version, lintArgs, the config file and the template's
// bytes: the whole input of a cfn-lint run over one file. Not covered:
// `cfn-lint -u`, which rewrites the installed schemas in place without a new
// version; remove ~/.cache/bp-infra/cfn-lint after it.
type lintCache struct {
	files    filecache.Cache
	done     chan struct{} // closed once version and config are known
	identity []byte        // `cfn-lint --version` and lintConfig; nil if either failed (nothing is cached)
}

// openLintCache asks bin its version in the background.
func openLintCache(ctx context.Context, bin string) *lintCache {
	c := &lintCache{files: filecache.Open("cfn-lint"), done: make(chan struct{})}
	go func() {
		defer close(c.done)
		out, err := exec.CommandContext(ctx, bin, "--version").Output()
		config, cerr := os.ReadFile(lintConfig)
		if err == nil && cerr == nil && strings.HasPrefix(string(out), "cfn-lint ") {
			c.identity = append(out, config...)
		}
	}()
	return c
}

// ready waits for the version (a nil cache, cfn-lint missing, at once).
func (c *lintCache) ready() {
	if c != nil {
		<-c.done
	}
}

// key names a template's findings; "" when nothing can be cached. Callers
// call ready first.
func (c *lintCache) key(template []byte) string {
	if c.identity == nil {
		return ""
	}
	h := sha256.New()
	fmt.Fprintf(h, "cfn-lint findings v1\n%q\n%q\n", c.identity, lintArgs)
	h.Write(template)
	return hex.EncodeToString(h.Sum(nil))
}

func (c *lintCache) get(key string) ([]lintFinding, bool) {
	if key == "" {
		return nil, false
	}
	raw, ok := c.files.Get(key)
	if !ok {
		return nil, false
	}
	var findings []lintFinding
	if json.Unmarshal(raw, &findings) != nil {
		return nil, false
	}
	return findings, true
}

// put stores findings unless one says cfn-lint could not read or process
// the file (E0000 parse, E0001 transform, E0002 rule error): such a run is
// about the run, not the template, and the next one lints it again.
func (c *lintCache) put(key string, findings []lintFinding) {
	if key == "" {
		return
	}
	for _, f := range findings {
		if strings.HasPrefix(f.Rule.ID, "E000") {
			return
		}
	}
	raw, err := json.Marshal(findings)
	if err == nil {
		c.files.Put(key, raw)
	}
}

// findingsOf returns the findings on one linted file, without its name.
func (r lintRun) findingsOf(file string) []lintFinding {
	out := []lintFinding{}
	for _, f := range r.findings {
		if f.Filename == file {
			f.Filename = ""
			out = append(out, f)
		}
	}
	return out
}

// TestLintCacheKeysOnVersionAndTemplate: a finding is found again only for
// the same cfn-lint version and the same template bytes, and a run that
// could not read its file is not kept.
func TestLintCacheKeysOnVersionAndTemplate(t *testing.T) {
	dir := t.TempDir()
	c := &lintCache{files: filecache.At(dir), identity: []byte("cfn-lint 1.51.0\n")}
	tpl := []byte(`{"Resources": {}}`)
	finding := lintFinding{Level: "Warning", Message: "m"}
	finding.Rule.ID = "W1020"
	c.put(c.key(tpl), []lintFinding{finding})
	if got, ok := c.get(c.key(tpl)); !ok || len(got) != 1 || got[0].Rule.ID != "W1020" {
		t.Fatalf("same version and template: got %v, %v", got, ok)
	}
	if _, ok := c.get(c.key([]byte(`{"Resources": {} }`))); ok {
		t.Error("a template one byte different found the cached findings")
	}
	newer := &lintCache{files: filecache.At(dir), identity: []byte("cfn-lint 1.52.0\n")}
	if _, ok := newer.get(newer.key(tpl)); ok {
		t.Error("another cfn-lint version found the cached findings")
	}
	unread := []byte(`{}`)
	parse := lintFinding{Level: "Error"}
	parse.Rule.ID = "E0000"
	c.put(c.key(unread), []lintFinding{parse})
	if _, ok := c.get(c.key(unread)); ok {
		t.Error("a file cfn-lint could not read was cached")
	}
	if (&lintCache{}).key(tpl) != "" {
		t.Error("without a version there must be no key")
	}
}
