package boot

import (
	"bytes"
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/bp/infra/internal/sdklog/sdklogtest"
	"github.com/bp/infra/lambdas/internal/logjson"
)

// A Lambda's SDK client closes a body its connection broke under: the SDK's
// warning must be a line of the function's JSON log (logjson), like every
// other, not the SDK's plain "SDK <date> WARN ..." line.
func TestSDKWarningsAreLinesOfTheFunctionsJSONLog(t *testing.T) {
	sdklogtest.NoAmbientAWS(t)
	var out bytes.Buffer
	cfg, err := loadConfig(logjson.New(&out), config.WithRegion("us-east-1"),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("AKIDFAKE", "fake-secret", "")),
		config.WithHTTPClient(sdklogtest.BrokenBodyClient("application/x-amz-json-1.1", `{"Parameter":{"Name":"/bp/p","Value":"v"}}`)))
	if err != nil {
		t.Fatal(err)
	}
	client := ssm.NewFromConfig(cfg, func(o *ssm.Options) { o.RetryMaxAttempts = 1 })
	if _, err := client.GetParameter(context.Background(), &ssm.GetParameterInput{Name: aws.String("/bp/p")}); err == nil {
		t.Fatal("GetParameter over a broken body succeeded")
	}
	sdklogtest.RequireWarning(t, out.String())
}
