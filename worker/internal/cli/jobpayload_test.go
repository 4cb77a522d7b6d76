package cli_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// The job the metered scenario leases, in the backend's format (system facts
// section 8, the protocol the backend already speaks): "poll: ... data.job
// is null or a job: dispatch_id, lease_token, input_payload (holds the
// ComfyUI workflow, optional assets with presigned URLs, output_node_id),
// input_url, output_url, output_headers." The fake backend writes
// dispatch_id, lease_token, input_url (null) and output_headers itself;
// input_payload is testdata/job-sdxl-img2img.json: an SDXL image-to-image
// workflow in ComfyUI's API format (the "Save (API)" export: node id ->
// class_type, inputs, _meta.title) whose checkpoint is the one of the
// backend's bundle manifest example (models/checkpoints/sdxl.safetensors),
// with one input image as an asset. Both the asset URL and output_url are
// presigned S3 URLs, signed here by the AWS SDK exactly as the backend's SDK
// signs them.

// mediaBucket and the object keys are examples of the backend's media
// bucket (<app>-<stage>-media-<account>) and of per-job keys.
const (
	mediaBucket = "bp-staging-media-123456789012"
	jobKey      = "jobs/2025/06/0f8a3c52-6d1e-4b7a-9c3e-5a2b7d9e1f40/"
	// sessionTokenChars: the backend signs with its ECS task role's
	// temporary credentials, so every presigned URL carries the session token
	// (X-Amz-Security-Token). STS documents no fixed size for it; 1,200
	// characters is an assumption on the large side of tokens seen from task
	// roles.
	sessionTokenChars = 1200
)

// jobPayload returns input_payload with the input image's presigned URL
// pointing at assetURL.
func jobPayload(t testing.TB, assetURL string) (json.RawMessage, int) {
	t.Helper()
	raw, err := os.ReadFile("testdata/job-sdxl-img2img.json")
	if err != nil {
		t.Fatal(err)
	}
	var p map[string]any
	if err := json.Unmarshal(raw, &p); err != nil {
		t.Fatal(err)
	}
	p["assets"] = []map[string]string{{"url": presign(t, "GET", jobKey+"input.png").standIn(assetURL), "filename": "input.png"}}
	out, err := json.Marshal(p) // compact, as the backend's json encoder writes it
	if err != nil {
		t.Fatal(err)
	}
	return out, len(out)
}

// presigned is an S3 URL for a key in the media bucket, presigned by the
// SDK (SigV4 query authentication, session token included).
type presigned struct{ url, query string }

func presign(t testing.TB, method, key string) presigned {
	t.Helper()
	tok := make([]byte, sessionTokenChars*3/4)
	_, _ = rand.Read(tok)
	client := s3.New(s3.Options{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider(
		"ASIAQ3EXAMPLE7KEYID4", "fake/secret/key/of/forty/characters/xxxx", base64.StdEncoding.EncodeToString(tok))})
	ps := s3.NewPresignClient(client, s3.WithPresignExpires(time.Hour))
	ctx := context.Background()
	var signed string
	switch method {
	case "PUT":
		req, err := ps.PresignPutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(mediaBucket), Key: aws.String(key), ContentType: aws.String("image/png")})
		if err != nil {
			t.Fatal(err)
		}
		signed = req.URL
	default:
		req, err := ps.PresignGetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(mediaBucket), Key: aws.String(key)})
		if err != nil {
			t.Fatal(err)
		}
		signed = req.URL
	}
	u, err := url.Parse(signed)
	if err != nil {
		t.Fatal(err)
	}
	if u.Query().Get("X-Amz-Security-Token") == "" || u.Query().Get("X-Amz-Signature") == "" {
		t.Fatalf("presigned URL without session token or signature: %s", signed)
	}
	return presigned{url: signed, query: u.RawQuery}
}

// standIn points the presigned URL at the fake's target, keeping the query
// and padding it to the real URL's length: the worker fetches from (or
// uploads to) the fake, and the backend's reply is as long as with the real
// bucket host and key.
func (p presigned) standIn(target string) string {
	s := target + "?" + p.query
	if pad := len(p.url) - len(s) - len("&x-pad="); pad > 0 {
		s += "&x-pad=" + strings.Repeat("0", pad)
	}
	return s
}
