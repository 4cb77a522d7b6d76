package test

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestAssemblyHoldsNothingOfTheProcessThatWroteIt: a synth of unchanged code
// writes the same cloud assembly, so a reviewer's `diff -r` of two cdk.out
// folders shows only what changed. By default CDK records a stack trace with
// every CfnElement (aws:cdk:creationStack) and every warning; under jsii its
// frames name the runtime's temporary folders (/tmp/jsii-kernel-XXXXXX,
// /tmp/jsii-runtime.NNN), new in each process. cdk.json turns both off with
// the context keys of @aws-cdk/cx-api (aws:cdk:disable-creation-stack-traces,
// aws:cdk:disable-stack-trace); the apps here are built from that context.
func TestAssemblyHoldsNothingOfTheProcessThatWroteIt(t *testing.T) {
	perProcess := []string{"jsii-kernel-", "jsii-runtime."}
	files := 0
	for _, dir := range scratch {
		err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".json") {
				return err
			}
			files++
			raw, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			for _, s := range append(perProcess, dir) {
				if i := strings.Index(string(raw), s); i >= 0 {
					t.Errorf("%s holds %q, which differs in every synth: ...%s...", path, s, excerpt(string(raw), i))
					return nil
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if files < 10 {
		t.Fatalf("read %d assembly files; expected every stage's", files)
	}
}

func excerpt(s string, i int) string {
	return s[max(0, i-80):min(len(s), i+80)]
}
