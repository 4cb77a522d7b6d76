package test

import (
	"testing"
)

// TestSynthesisRaisesNoCdkWarning: CDK itself (not cdk-nag, which
// TestCdkNagClean covers) reports no error and warns of nothing in any
// stage. A warning is CDK saying a setting does not do what the code says (a
// CloudFront security policy ignored without a custom certificate) or that a
// default is about to change under us (cross-stack reference strength, which
// cdk.json pins to "strong": exports stay, as the exports tests require). A
// new one, after a CDK upgrade say, is read and answered in the code, not
// left in every synth.
func TestSynthesisRaisesNoCdkWarning(t *testing.T) {
	for _, b := range all() {
		for _, kind := range b.kinds() {
			for _, a := range b.stacks[kind].cdk {
				t.Errorf("%s %s: CDK annotates %s", b.label, kind, a)
			}
		}
	}
}
