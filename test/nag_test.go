package test

import (
	"maps"
	"slices"
	"strings"
	"testing"
)

// TestCdkNagClean fails on any unsuppressed AwsSolutions error or warning in
// any stack of any stage; suppressions live in each stack package's suppressions.go.
func TestCdkNagClean(t *testing.T) {
	for _, b := range all() {
		for _, kind := range slices.Sorted(maps.Keys(b.templates)) {
			if findings := b.nag[kind]; len(findings) > 0 {
				t.Errorf("%s/%s: %d unsuppressed cdk-nag findings:\n  %s", b.label, kind, len(findings), strings.Join(findings, "\n  "))
			}
		}
	}
}
