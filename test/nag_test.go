package test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestCdkNagClean fails on any unsuppressed AwsSolutions error or warning in
// any stack of any stage; suppressions live in each stack package's suppressions.go.
func TestCdkNagClean(t *testing.T) {
	for _, b := range all() {
		for _, kind := range b.kinds() {
			if findings := b.stacks[kind].nag; len(findings) > 0 {
				t.Errorf("%s/%s: %d unsuppressed cdk-nag findings:\n  %s", b.label, kind, len(findings), strings.Join(findings, "\n  "))
			}
		}
	}
}

// TestSuppressionsCiteRunbooksThatExist: a suppression whose reason points
// at a runbook is true only while that page exists.
func TestSuppressionsCiteRunbooksThatExist(t *testing.T) {
	cited := map[string]bool{}
	runbook := regexp.MustCompile(`docs/runbooks/[a-z0-9-]+\.md`)
	for _, b := range all() {
		for _, tpl := range b.templates {
			walk("", map[string]any(tpl), func(_ string, v any) {
				s, ok := v.(string)
				if !ok {
					return
				}
				for _, m := range runbook.FindAllString(s, -1) {
					cited[m] = true
				}
			})
		}
	}
	if len(cited) < 5 {
		t.Fatalf("only %d runbooks cited by the templates' suppressions: %v", len(cited), cited)
	}
	for page := range cited {
		if _, err := os.Stat(filepath.Join("..", page)); err != nil {
			t.Errorf("a suppression cites %s, which does not exist", page)
		}
	}
}
