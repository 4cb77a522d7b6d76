// Package awsclients builds the AWS SDK v2 clients the worker uses, with
// optional endpoint overrides so tests and local runs talk to fakes.
package awsclients

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/bp/infra/internal/sdklog"
)

// Options choose region, endpoints and credentials. An empty endpoint means
// the SDK default, which also honours AWS_ENDPOINT_URL_<SERVICE> and
// AWS_EC2_METADATA_SERVICE_ENDPOINT.
type Options struct {
	Region                 string
	HTTPClient             *http.Client
	AutoScalingEndpoint    string
	SecretsManagerEndpoint string
	CloudWatchEndpoint     string
	S3Endpoint             string
	SSMEndpoint            string
	IMDSEndpoint           string
	// StaticCredentials skips the default chain (tests against fakes).
	StaticCredentials bool
}

// Clients are the SDK clients of one worker.
type Clients struct {
	AutoScaling    *autoscaling.Client
	SecretsManager *secretsmanager.Client
	CloudWatch     *cloudwatch.Client
	S3             *s3.Client
	SSM            *ssm.Client
	IMDS           *imds.Client
}

// New loads the shared config once and builds every client from it. log
// receives the SDK's own lines (its warnings), through the worker's JSON
// handler and its redaction; nil is refused, as slog.Default() would print
// them as plain text.
func New(ctx context.Context, log *slog.Logger, o Options) (Clients, error) {
	if log == nil {
		return Clients{}, errors.New("awsclients: the logger is nil: pass the worker's, so the SDK's own lines are JSON")
	}
	opts := []func(*config.LoadOptions) error{config.WithRegion(o.Region), sdklog.Option(log)}
	if o.HTTPClient != nil {
		opts = append(opts, config.WithHTTPClient(o.HTTPClient))
	}
	if o.StaticCredentials {
		opts = append(opts, config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("AKIDFAKE", "fake-secret", "")))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return Clients{}, fmt.Errorf("load AWS config: %w", err)
	}
	return Clients{
		AutoScaling: autoscaling.NewFromConfig(cfg, func(c *autoscaling.Options) { setEndpoint(&c.BaseEndpoint, o.AutoScalingEndpoint) }),
		SecretsManager: secretsmanager.NewFromConfig(cfg, func(c *secretsmanager.Options) {
			setEndpoint(&c.BaseEndpoint, o.SecretsManagerEndpoint)
		}),
		CloudWatch: cloudwatch.NewFromConfig(cfg, func(c *cloudwatch.Options) { setEndpoint(&c.BaseEndpoint, o.CloudWatchEndpoint) }),
		S3: s3.NewFromConfig(cfg, func(c *s3.Options) {
			// Objects uploaded without a checksum (the backend's) would
			// otherwise make the SDK log a warning per download; the
			// bundle sync checks sha256 itself.
			c.DisableLogOutputChecksumValidationSkipped = true
			if o.S3Endpoint != "" {
				c.BaseEndpoint, c.UsePathStyle = aws.String(o.S3Endpoint), true
			}
		}),
		SSM: ssm.NewFromConfig(cfg, func(c *ssm.Options) { setEndpoint(&c.BaseEndpoint, o.SSMEndpoint) }),
		IMDS: imds.NewFromConfig(cfg, func(c *imds.Options) {
			if o.IMDSEndpoint != "" {
				c.Endpoint = o.IMDSEndpoint
			}
		}),
	}, nil
}

func setEndpoint(dst **string, v string) {
	if v != "" {
		*dst = aws.String(v)
	}
}
