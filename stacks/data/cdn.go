package data

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscertificatemanager"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudfront"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudfrontorigins"
	"github.com/aws/jsii-runtime-go"
	"github.com/bp/infra/constructs/webacl"
)

// addMediaCdn serves the media bucket through CloudFront with origin access
// control. Media keys are immutable (a new upload gets a new key), so long TTLs
// are safe and keep S3 and CloudFront egress down.
func addMediaCdn(stack awscdk.Stack, p Props, d *Data) {
	m := p.Cfg.Media
	policy := awscloudfront.NewCachePolicy(stack, jsii.String("MediaCachePolicy"), &awscloudfront.CachePolicyProps{
		CachePolicyName:            jsii.String(p.Names.Resource("media-immutable")),
		Comment:                    jsii.String("Immutable media: long TTLs, compressed, no cookies or query strings in the key"),
		DefaultTtl:                 days(30),
		MaxTtl:                     days(365),
		MinTtl:                     days(1),
		EnableAcceptEncodingGzip:   jsii.Bool(true),
		EnableAcceptEncodingBrotli: jsii.Bool(true),
		CookieBehavior:             awscloudfront.CacheCookieBehavior_None(),
		QueryStringBehavior:        awscloudfront.CacheQueryStringBehavior_None(),
		HeaderBehavior:             awscloudfront.CacheHeaderBehavior_None(),
	})
	props := &awscloudfront.DistributionProps{
		Comment: jsii.String(p.Names.Resource("media")),
		DefaultBehavior: &awscloudfront.BehaviorOptions{
			Origin:               awscloudfrontorigins.S3BucketOrigin_WithOriginAccessControl(d.MediaBucket, nil),
			ViewerProtocolPolicy: awscloudfront.ViewerProtocolPolicy_HTTPS_ONLY,
			CachePolicy:          policy,
			Compress:             jsii.Bool(true),
			AllowedMethods:       awscloudfront.AllowedMethods_ALLOW_GET_HEAD_OPTIONS(),
		},
		PriceClass:    awscloudfront.PriceClass(priceClasses[m.PriceClass]),
		HttpVersion:   awscloudfront.HttpVersion_HTTP2_AND_3,
		EnableLogging: jsii.Bool(true),
		LogBucket:     d.AccessLogsBucket,
		LogFilePrefix: jsii.String(AccessLogsCloudFrontPrefix),
	}
	if m.WafRequestsPer5Min > 0 {
		// A per-IP rate limit against download loops and scrapers; CloudFront
		// web ACLs live in us-east-1 (config refuses another region).
		acl := webacl.New(stack, "MediaWebAcl", p.Names.Resource("media"), webacl.CloudFront, []webacl.Rule{
			{Name: "client-rate", Rate: &webacl.Rate{Limit: m.WafRequestsPer5Min}},
		})
		props.WebAclId = acl.AttrArn()
	}
	if m.CdnDomainName != "" {
		props.DomainNames = jsii.Strings(m.CdnDomainName)
		props.Certificate = awscertificatemanager.Certificate_FromCertificateArn(stack, jsii.String("MediaCertificate"), jsii.String(m.CdnCertificateArn))
		// Only a custom certificate takes a security policy: with the
		// *.cloudfront.net one, "CloudFront automatically sets the security
		// policy to TLSv1 regardless of the value that you set here"
		// (ViewerCertificate, CloudFront API reference), which is why config
		// requires a custom domain in production.
		props.MinimumProtocolVersion = awscloudfront.SecurityPolicyProtocol_TLS_V1_2_2021
	}
	cdn := awscloudfront.NewDistribution(stack, jsii.String("MediaCdn"), props)
	d.MediaCdn = cdn
	d.MediaDomain = cdn.DistributionDomainName()
	// Exported in every config: Compute imports it only while there is no
	// custom domain, and an export still imported cannot be deleted, so adding
	// media.cdnDomainName later must not remove it.
	stack.ExportValue(cdn.DistributionDomainName(), nil)
	if m.CdnDomainName != "" {
		d.MediaDomain = jsii.String(m.CdnDomainName)
	}
}

var priceClasses = map[string]string{
	"PriceClass_100": string(awscloudfront.PriceClass_PRICE_CLASS_100),
	"PriceClass_200": string(awscloudfront.PriceClass_PRICE_CLASS_200),
	"PriceClass_All": string(awscloudfront.PriceClass_PRICE_CLASS_ALL),
}
