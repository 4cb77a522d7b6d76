package data

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/jsii-runtime-go"
	"github.com/bp/infra/config"
)

// Prefixes in the access-logs bucket, one per producer.
const (
	AccessLogsAlbPrefix        = "alb"
	AccessLogsCloudFrontPrefix = "cloudfront/"
)

func days(n int) awscdk.Duration { return awscdk.Duration_Days(jsii.Number(float64(n))) }

// bucket applies what every bucket of the app shares: no public access, TLS
// only, S3-managed encryption, access logging and the stage's removal policy.
func bucket(stack awscdk.Stack, p Props, id, what string, logs awss3.IBucket, extra awss3.BucketProps) awss3.Bucket {
	props := extra
	props.BucketName = jsii.String(p.Names.Bucket(what, p.Cfg.Account))
	props.BlockPublicAccess = awss3.BlockPublicAccess_BLOCK_ALL()
	props.EnforceSSL = jsii.Bool(true)
	props.MinimumTLSVersion = jsii.Number(1.2)
	props.Encryption = awss3.BucketEncryption_S3_MANAGED
	props.RemovalPolicy = removal(p.Cfg)
	props.AutoDeleteObjects = jsii.Bool(!p.Cfg.IsProduction())
	if logs != nil {
		props.ServerAccessLogsBucket = logs
		props.ServerAccessLogsPrefix = jsii.String("s3/" + what + "/")
	}
	return awss3.NewBucket(stack, jsii.String(id), &props)
}

func abortUploads() *awss3.LifecycleRule {
	return &awss3.LifecycleRule{Id: jsii.String("abort-incomplete-uploads"), AbortIncompleteMultipartUploadAfter: days(7)}
}

// logLifecycle: Infrequent Access after 30 days, gone after 90.
func logLifecycle() *[]*awss3.LifecycleRule {
	return &[]*awss3.LifecycleRule{abortUploads(), {
		Id:          jsii.String("ia-30-expire-90"),
		Transitions: &[]*awss3.Transition{{StorageClass: awss3.StorageClass_INFREQUENT_ACCESS(), TransitionAfter: days(30)}},
		Expiration:  days(90),
	}}
}

func addBuckets(stack awscdk.Stack, p Props, d *Data) {
	m := p.Cfg.Media
	// Access logs: ALB, CloudFront and S3 server access logs. CloudFront's
	// standard logging still writes with ACLs, hence BUCKET_OWNER_PREFERRED.
	logs := bucket(stack, p, "AccessLogsBucket", "access-logs", nil, awss3.BucketProps{
		ObjectOwnership: awss3.ObjectOwnership_BUCKET_OWNER_PREFERRED,
		LifecycleRules:  logLifecycle(),
	})
	d.AccessLogsBucket = logs
	d.MediaBucket = bucket(stack, p, "MediaBucket", "media", logs, awss3.BucketProps{
		Cors: &[]*awss3.CorsRule{{
			AllowedMethods: &[]awss3.HttpMethods{awss3.HttpMethods_PUT, awss3.HttpMethods_POST},
			AllowedOrigins: jsii.Strings("https://" + p.Cfg.DomainName),
			AllowedHeaders: jsii.Strings("*"),
			ExposedHeaders: jsii.Strings("ETag"),
			MaxAge:         jsii.Number(3000),
		}},
		// Delivered media is the main cost driver: tier what is no longer hot.
		LifecycleRules: mediaLifecycle(m),
		Versioned:      jsii.Bool(m.Versioned),
	})
	d.ModelsBucket = bucket(stack, p, "ModelsBucket", "models", logs, awss3.BucketProps{
		Versioned: jsii.Bool(true),
		LifecycleRules: &[]*awss3.LifecycleRule{abortUploads(), {
			Id:                          jsii.String("expire-old-versions"),
			NoncurrentVersionExpiration: days(m.ModelVersionsKeepDays),
			ExpiredObjectDeleteMarker:   jsii.Bool(true),
		}},
	})
	d.ComfyLogsBucket = bucket(stack, p, "ComfyLogsBucket", "comfyui-logs", logs, awss3.BucketProps{
		LifecycleRules: logLifecycle(),
	})
}

// mediaLifecycle tiers old media and, in a versioned bucket, expires the
// noncurrent versions a delete or overwrite leaves after m.NoncurrentVersionDays.
func mediaLifecycle(m config.Media) *[]*awss3.LifecycleRule {
	rules := []*awss3.LifecycleRule{abortUploads(), {
		Id: jsii.String("tier-old-media"),
		Transitions: &[]*awss3.Transition{
			{StorageClass: awss3.StorageClass_INFREQUENT_ACCESS(), TransitionAfter: days(m.InfrequentAccessDays)},
			{StorageClass: awss3.StorageClass_GLACIER_INSTANT_RETRIEVAL(), TransitionAfter: days(m.GlacierIrDays)},
		},
	}}
	if m.Versioned {
		rules = append(rules, &awss3.LifecycleRule{
			Id:                          jsii.String("expire-noncurrent-media"),
			NoncurrentVersionExpiration: days(m.NoncurrentVersionDays),
			ExpiredObjectDeleteMarker:   jsii.Bool(true),
		})
	}
	return &rules
}
