package awsclients_test

import (
	"bytes"
	"context"
	"log/slog"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/bp/infra/internal/sdklog/sdklogtest"
	"github.com/bp/infra/worker/internal/awsclients"
)

// The bundle sync's S3 client closes a body its connection broke under (a
// download cancelled by a refused bundle): the SDK's warning must be a JSON
// line of the worker's logger, not the SDK's plain "SDK <date> WARN ..."
// line on stderr between the worker's JSON lines (found by the sync-bundle
// black-box test, which fails on any line that is not slog JSON).
func TestSDKWarningsAreLinesOfTheWorkersJSONLog(t *testing.T) {
	sdklogtest.NoAmbientAWS(t)
	var out bytes.Buffer
	cl, err := awsclients.New(context.Background(), slog.New(slog.NewJSONHandler(&out, nil)), awsclients.Options{
		Region: "us-east-1", StaticCredentials: true, S3Endpoint: "http://s3.test",
		HTTPClient: sdklogtest.BrokenBodyClient("application/xml", ""),
	})
	if err != nil {
		t.Fatal(err)
	}
	// The call fails (its body broke, on every attempt); what matters is
	// the warning the SDK logs as it closes the body.
	if _, err := cl.S3.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String("b"), Key: aws.String("k")},
		func(o *s3.Options) { o.RetryMaxAttempts = 1 }); err == nil {
		t.Fatal("HeadObject over a broken body succeeded")
	}
	sdklogtest.RequireWarning(t, out.String())
}
