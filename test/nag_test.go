package test

import (
	"strings"
	"testing"
)

// TestCdkNagClean fails on any unsuppressed AwsSolutions error or warning in
// any stack of any stage; suppressions live in stacks/nag_suppressions.go.
func TestCdkNagClean(t *testing.T) {
	for _, b := range all() {
		for _, kind := range sortedKeys(b.templates) {
			if findings := b.nag[kind]; len(findings) > 0 {
				t.Errorf("%s/%s: %d unsuppressed cdk-nag findings:\n  %s", b.label, kind, len(findings), strings.Join(findings, "\n  "))
			}
		}
	}
}
