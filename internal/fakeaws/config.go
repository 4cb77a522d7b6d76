package fakeaws

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// Config returns an aws.Config that sends every client built from it to
// endpoint with static credentials and no retries, so a test never reaches
// AWS and API errors surface at once.
func Config(endpoint string) aws.Config {
	return aws.Config{
		Region:           "us-east-1",
		Credentials:      credentials.NewStaticCredentialsProvider("AKIDTEST", "SECRETTEST", ""),
		BaseEndpoint:     aws.String(endpoint),
		RetryMaxAttempts: 1,
		// The SDK's read-timeout conn wrapper made large responses (DescribeAutoScalingGroups
		// with 75+ instances) fail now and then under -race with "use of closed network
		// connection"; local fakes need no read timeout.
		HTTPClient: awshttp.NewBuildableClient().WithReadTimeout(0),
	}
}
