package fakeaws

import (
	"bytes"
	"io"
	"net/http"

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
		HTTPClient:       HTTPClient(),
	}
}

// HTTPClient is the HTTP client for an SDK client a test makes, against these
// fakes or moto_server: the SDK's, without its read timeout (local fakes
// need none), sending bufferedBodies.
func HTTPClient() aws.HTTPClient {
	return bufferedBodies{awshttp.NewBuildableClient().WithReadTimeout(0)}
}

// bufferedBodies sends each request with a copy of its body that only the
// transport holds. smithy-go closes the body it gave net/http once the
// response arrives; if the transport's write loop is still on its last read
// of it (waiting for EOF, which a loaded machine delays), that read fails,
// the write loop closes the connection, and the response body, already
// arriving with status 200, reads "use of closed network connection"
// (aws/aws-sdk-go-v2#2737). The fakes' clients make one attempt, so that
// call counts are exact, and failed (paged DescribeScalingActivities under
// load, about 1 run in 20); clients with the SDK's default retryer, which
// retries net.ErrClosed (#2949), sent a non-idempotent call twice (a seeding
// PutParameter against moto_server answered ParameterAlreadyExists).
type bufferedBodies struct{ client aws.HTTPClient }

func (b bufferedBodies) Do(req *http.Request) (*http.Response, error) {
	if req.Body != nil && req.Body != http.NoBody {
		data, err := io.ReadAll(req.Body)
		_ = req.Body.Close()
		if err != nil {
			return nil, err
		}
		req.Body = io.NopCloser(bytes.NewReader(data))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }
		req.ContentLength = int64(len(data))
	}
	return b.client.Do(req)
}
