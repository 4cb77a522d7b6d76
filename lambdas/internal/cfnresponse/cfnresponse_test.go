package cfnresponse_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/bp/infra/internal/fakeaws"
	"github.com/bp/infra/lambdas/internal/cfnresponse"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func newRequest(url, requestType string) cfnresponse.Request {
	return cfnresponse.Request{
		RequestType:        requestType,
		ResponseURL:        url,
		StackID:            "arn:aws:cloudformation:us-east-1:123456789012:stack/bp-staging/abc",
		RequestID:          "req-1",
		ResourceType:       "Custom::Test",
		LogicalResourceID:  "TestResource",
		PhysicalResourceID: "phys-existing",
		ResourceProperties: map[string]any{"ServiceToken": "arn:aws:lambda:x"},
	}
}

func runner(h cfnresponse.HandlerFunc) cfnresponse.Runner {
	return cfnresponse.Runner{
		Handler: h,
		Sender:  cfnresponse.Sender{Attempts: 3, Backoff: time.Millisecond},
		Log:     slog.New(slog.NewJSONHandler(io.Discard, nil)),
	}
}

func TestSuccessResponseCarriesProtocolFields(t *testing.T) {
	url := fakeaws.NewResponseURL(t)
	req := newRequest(url.URL(), cfnresponse.RequestCreate)
	req.PhysicalResourceID = ""
	err := runner(func(ctx context.Context, r cfnresponse.Request) (cfnresponse.Result, error) {
		return cfnresponse.Result{PhysicalResourceID: "my-id", Data: map[string]any{"K": "v"}}, nil
	}).Handle(context.Background(), req)
	require.NoError(t, err)

	put := url.Last(t)
	assert.Equal(t, "PUT", put.Method)
	assert.Contains(t, put.Path, "cloudformation-custom-resource-response")
	for _, v := range put.ContentType {
		assert.Empty(t, v, "pre-signed URL needs an empty Content-Type")
	}
	assert.Equal(t, int64(len(put.Body)), put.ContentLength, "S3 needs a Content-Length, not chunked")
	body := put.Decode(t)
	assert.Equal(t, map[string]any{
		"Status":             "SUCCESS",
		"PhysicalResourceId": "my-id",
		"StackId":            req.StackID,
		"RequestId":          "req-1",
		"LogicalResourceId":  "TestResource",
		"NoEcho":             false,
		"Data":               map[string]any{"K": "v"},
	}, body)
}

func TestFailureKeepsPhysicalIDAndReportsError(t *testing.T) {
	url := fakeaws.NewResponseURL(t)
	req := newRequest(url.URL(), cfnresponse.RequestUpdate)
	err := runner(func(ctx context.Context, r cfnresponse.Request) (cfnresponse.Result, error) {
		return cfnresponse.Result{}, errors.New("Error 1045: Access denied")
	}).Handle(context.Background(), req)
	require.NoError(t, err, "a delivered FAILED response is not a Lambda error")

	body := url.Last(t).Decode(t)
	assert.Equal(t, "FAILED", body["Status"])
	assert.Equal(t, "phys-existing", body["PhysicalResourceId"])
	assert.Contains(t, body["Reason"], "Error 1045: Access denied")
	assert.NotContains(t, body, "Data")
}

func TestFailedCreateWithoutIDGetsFallbackID(t *testing.T) {
	url := fakeaws.NewResponseURL(t)
	req := newRequest(url.URL(), cfnresponse.RequestCreate)
	req.PhysicalResourceID = ""
	require.NoError(t, runner(func(ctx context.Context, r cfnresponse.Request) (cfnresponse.Result, error) {
		return cfnresponse.Result{}, errors.New("boom")
	}).Handle(context.Background(), req))
	body := url.Last(t).Decode(t)
	assert.Equal(t, "FAILED", body["Status"])
	assert.NotEmpty(t, body["PhysicalResourceId"], "CloudFormation rejects a response without PhysicalResourceId")
}

func TestPanicBecomesFailedWithMessage(t *testing.T) {
	url := fakeaws.NewResponseURL(t)
	require.NoError(t, runner(func(ctx context.Context, r cfnresponse.Request) (cfnresponse.Result, error) {
		var m map[string]int
		m["x"] = 1 // nil map write panics
		return cfnresponse.Result{}, nil
	}).Handle(context.Background(), newRequest(url.URL(), cfnresponse.RequestCreate)))
	body := url.Last(t).Decode(t)
	assert.Equal(t, "FAILED", body["Status"])
	assert.Contains(t, body["Reason"], "panic")
	assert.Contains(t, body["Reason"], "assignment to entry in nil map")
}

func TestLongReasonIsTruncatedUnder4KB(t *testing.T) {
	url := fakeaws.NewResponseURL(t)
	long := strings.Repeat("é<\"", 3000) // multi-byte and JSON-escaped characters
	require.NoError(t, runner(func(ctx context.Context, r cfnresponse.Request) (cfnresponse.Result, error) {
		return cfnresponse.Result{}, errors.New("start " + long)
	}).Handle(context.Background(), newRequest(url.URL(), cfnresponse.RequestCreate)))
	put := url.Last(t)
	assert.Less(t, len(put.Body), cfnresponse.MaxBodyBytes)
	body := put.Decode(t)
	reason := body["Reason"].(string)
	assert.True(t, strings.HasPrefix(reason, "start "), reason[:20])
	assert.True(t, strings.HasSuffix(reason, "[truncated]"))
}

func TestHandlerIgnoringContextStillGetsAnswered(t *testing.T) {
	url := fakeaws.NewResponseURL(t)
	r := runner(func(ctx context.Context, req cfnresponse.Request) (cfnresponse.Result, error) {
		time.Sleep(2 * time.Second)
		return cfnresponse.Result{}, nil
	})
	r.SafetyMargin = 300 * time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), 800*time.Millisecond)
	defer cancel()
	start := time.Now()
	require.NoError(t, r.Handle(ctx, newRequest(url.URL(), cfnresponse.RequestCreate)))
	assert.Less(t, time.Since(start), 800*time.Millisecond, "answer before the Lambda deadline")
	body := url.Last(t).Decode(t)
	assert.Equal(t, "FAILED", body["Status"])
	assert.Contains(t, body["Reason"], "timed out")
}

func TestHandlerSeesDeadlineBeforeLambdaDeadline(t *testing.T) {
	url := fakeaws.NewResponseURL(t)
	var got time.Time
	r := runner(func(ctx context.Context, req cfnresponse.Request) (cfnresponse.Result, error) {
		got, _ = ctx.Deadline()
		return cfnresponse.Result{}, nil
	})
	r.SafetyMargin = 10 * time.Second
	lambdaDeadline := time.Now().Add(time.Minute)
	ctx, cancel := context.WithDeadline(context.Background(), lambdaDeadline)
	defer cancel()
	require.NoError(t, r.Handle(ctx, newRequest(url.URL(), cfnresponse.RequestCreate)))
	assert.WithinDuration(t, lambdaDeadline.Add(-10*time.Second), got, time.Millisecond)
}

func TestPutIsRetried(t *testing.T) {
	url := fakeaws.NewResponseURL(t)
	url.FailFirst(2)
	require.NoError(t, runner(func(ctx context.Context, r cfnresponse.Request) (cfnresponse.Result, error) {
		return cfnresponse.Result{PhysicalResourceID: "x"}, nil
	}).Handle(context.Background(), newRequest(url.URL(), cfnresponse.RequestDelete)))
	puts := url.Puts()
	require.Len(t, puts, 3)
	assert.Equal(t, puts[0].Body, puts[2].Body, "every retry sends the same body")
}

func TestPutGivesUpAndReturnsError(t *testing.T) {
	url := fakeaws.NewResponseURL(t)
	url.FailFirst(10)
	err := runner(func(ctx context.Context, r cfnresponse.Request) (cfnresponse.Result, error) {
		return cfnresponse.Result{PhysicalResourceID: "x"}, nil
	}).Handle(context.Background(), newRequest(url.URL(), cfnresponse.RequestCreate))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "status 500")
	assert.Len(t, url.Puts(), 3)
}

func TestInvalidRequestTypeIsFailed(t *testing.T) {
	url := fakeaws.NewResponseURL(t)
	called := false
	req := newRequest(url.URL(), "Replace")
	require.NoError(t, runner(func(ctx context.Context, r cfnresponse.Request) (cfnresponse.Result, error) {
		called = true
		return cfnresponse.Result{}, nil
	}).Handle(context.Background(), req))
	assert.False(t, called)
	body := url.Last(t).Decode(t)
	assert.Equal(t, "FAILED", body["Status"])
	assert.Contains(t, body["Reason"], `unknown RequestType "Replace"`)
}

func TestPropsParsing(t *testing.T) {
	p := cfnresponse.Props{
		"List":   []any{"a", "b"},
		"Joined": "a, b",
		"Str":    "x",
		"Bad":    []any{"a", 1.0},
	}
	l, err := p.StringList("List")
	require.NoError(t, err)
	assert.Equal(t, []string{"a", "b"}, l)
	l, err = p.StringList("Joined")
	require.NoError(t, err)
	assert.Equal(t, []string{"a", "b"}, l)
	_, err = p.StringList("Bad")
	assert.ErrorContains(t, err, "Bad[1]")
	s, err := p.String("Missing", "def")
	require.NoError(t, err)
	assert.Equal(t, "def", s)
	_, err = p.RequiredString("Missing")
	assert.ErrorContains(t, err, "property Missing is required")
}
