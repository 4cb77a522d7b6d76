package test

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
)

// TestAssemblyHoldsNothingOfTheProcessThatWroteIt: a synth of unchanged code
// writes the same cloud assembly, so a reviewer's `diff -r` of two cdk.out
// folders shows only what changed. By default CDK records a stack trace with
// every CfnElement (aws:cdk:creationStack) and every warning; under jsii its
// frames name the runtime's temporary folders (/tmp/jsii-kernel-XXXXXX,
// /tmp/jsii-runtime.NNN), new in each process. cdk.json turns both off with
// the context keys of @aws-cdk/cx-api (aws:cdk:disable-creation-stack-traces,
// aws:cdk:disable-stack-trace); the apps here are built from that context,
// and so is a probe app with one resource and one warning.
func TestAssemblyHoldsNothingOfTheProcessThatWroteIt(t *testing.T) {
	perProcess := []string{"jsii-kernel-", "jsii-runtime."}
	// The stages raise no warning (TestSynthesisRaisesNoCdkWarning); the
	// probe app does, so a warning's trace would show.
	probeWarned := false
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
			probeWarned = probeWarned || (dir == probeDir && strings.Contains(string(raw), probeWarning))
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
	if files < 10 || !probeWarned {
		t.Fatalf("read %d assembly files (expected every stage's), the probe's warning among them: %v", files, probeWarned)
	}
}

func excerpt(s string, i int) string {
	return s[max(0, i-80):min(len(s), i+80)]
}

const probeWarning = "a warning the determinism test reads"

// probeDir is the probe app's assembly.
var probeDir string

// synthProbe synthesizes, from cdk.json's context, an app of one stack with
// one resource and one warning (TestMain, after the stages).
func synthProbe(cfgCtx map[string]any) error {
	app := newApp(cfgCtx)
	stack := awscdk.NewStack(app, jsii.String("probe"), nil)
	awscdk.NewCfnResource(stack, jsii.String("Thing"), &awscdk.CfnResourceProps{Type: jsii.String("Custom::Probe")})
	awscdk.Annotations_Of(stack).AddWarningV2(jsii.String("probe:warning"), jsii.String(probeWarning), nil)
	return recoverPanic(func() { probeDir = *app.Synth(nil).Directory() })
}
