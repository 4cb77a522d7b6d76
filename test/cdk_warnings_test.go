package test

import (
	"maps"
	"slices"
	"strings"
	"testing"
)

// TestSynthesisRaisesNoCdkWarning: CDK itself (not cdk-nag, which
// TestCdkNagClean covers) warns of nothing in any stage. A warning is CDK
// saying a setting does not do what the code says (a CloudFront security
// policy ignored without a custom certificate) or that a default is about to
// change under us (cross-stack reference strength, which cdk.json pins to
// "strong": exports stay, as the exports tests require). A new one, after a
// CDK upgrade say, is read and answered in the code, not left in every synth.
func TestSynthesisRaisesNoCdkWarning(t *testing.T) {
	for _, b := range all() {
		for _, kind := range slices.Sorted(maps.Keys(b.stacks)) {
			meta := b.stacks[kind].cfn.Metadata
			for path, entries := range meta {
				for _, e := range entries {
					text, _ := e.Data.(string)
					if e.Type == "aws:cdk:warning" && !strings.Contains(text, "AwsSolutions-") {
						t.Errorf("%s %s: CDK warns at %s: %s", b.label, kind, path, text)
					}
				}
			}
		}
	}
}

// TestMediaCdnServesTLS12WhereItCan: with a custom domain the media
// distribution uses its ACM certificate over SNI with the TLSv1.2_2021
// policy. Without one it uses the *.cloudfront.net certificate, for which
// "CloudFront automatically sets the security policy to TLSv1 regardless of
// the value that you set here" (ViewerCertificate, CloudFront API reference),
// so no policy is set (CDK warns that it would be ignored), and only a
// non-production stage may do so.
func TestMediaCdnServesTLS12WhereItCan(t *testing.T) {
	custom := 0
	for _, b := range all() {
		cdn := b.templates["data"].One(t, "AWS::CloudFront::Distribution")
		vc, _ := get(cdn.Props, "DistributionConfig.ViewerCertificate").(map[string]any)
		aliases := str(get(cdn.Props, "DistributionConfig.Aliases"))
		if b.stage.Cfg.Media.CdnDomainName == "" {
			// CDK leaves ViewerCertificate out then, which CloudFront takes
			// as CloudFrontDefaultCertificate.
			if (vc != nil && vc["CloudFrontDefaultCertificate"] != true) || vc["MinimumProtocolVersion"] != nil {
				t.Errorf("%s: no custom domain, viewer certificate %v", b.label, vc)
			}
			if b.stage.Cfg.Stage == "production" {
				t.Errorf("%s: production media would be served with TLSv1", b.label)
			}
			continue
		}
		custom++
		if !strings.Contains(aliases, b.stage.Cfg.Media.CdnDomainName) || vc["AcmCertificateArn"] != b.stage.Cfg.Media.CdnCertificateArn ||
			vc["SslSupportMethod"] != "sni-only" || vc["MinimumProtocolVersion"] != "TLSv1.2_2021" {
			t.Errorf("%s: aliases %s, viewer certificate %v; want %s on its certificate, sni-only, TLSv1.2_2021", b.label, aliases, vc, b.stage.Cfg.Media.CdnDomainName)
		}
	}
	if custom == 0 {
		t.Fatal("no build has a media CDN domain")
	}
}
