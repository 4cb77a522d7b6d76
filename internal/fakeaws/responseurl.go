package fakeaws

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// ResponsePut is one PUT received by the fake pre-signed response URL.
type ResponsePut struct {
	Method            string
	Path              string
	ContentType       []string // raw header values; CloudFormation needs [""] or none
	ContentLength     int64
	Body              []byte
	TransferEncodings []string
}

// Decode unmarshals the body into a generic map for assertions.
func (p ResponsePut) Decode(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(p.Body, &m); err != nil {
		t.Fatalf("response body is not JSON: %v: %s", err, p.Body)
	}
	return m
}

// ResponseURL stands in for the S3 pre-signed URL CloudFormation hands out.
type ResponseURL struct {
	Server *httptest.Server

	mu        sync.Mutex
	puts      []ResponsePut
	failFirst int // answer 500 to this many requests first
}

// NewResponseURL starts the fake; it is closed at test cleanup.
func NewResponseURL(t testing.TB) *ResponseURL {
	r := &ResponseURL{}
	r.Server = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.Server.Close)
	return r
}

// URL returns a URL that looks like a pre-signed one.
func (r *ResponseURL) URL() string {
	return r.Server.URL + "/cloudformation-custom-resource-response-useast1/arn%3Aaws%3Acloudformation?X-Amz-Signature=abc"
}

// FailFirst makes the next n requests fail with 500.
func (r *ResponseURL) FailFirst(n int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failFirst = n
}

// Puts returns every request received, failed ones included.
func (r *ResponseURL) Puts() []ResponsePut {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]ResponsePut(nil), r.puts...)
}

// Last returns the last request, failing the test when there is none.
func (r *ResponseURL) Last(t testing.TB) ResponsePut {
	t.Helper()
	puts := r.Puts()
	if len(puts) == 0 {
		t.Fatal("no response was PUT to the response URL")
	}
	return puts[len(puts)-1]
}

func (r *ResponseURL) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	r.puts = append(r.puts, ResponsePut{
		Method:            req.Method,
		Path:              req.URL.Path,
		ContentType:       req.Header.Values("Content-Type"),
		ContentLength:     req.ContentLength,
		Body:              body,
		TransferEncodings: req.TransferEncoding,
	})
	fail := r.failFirst > 0
	if fail {
		r.failFirst--
	}
	r.mu.Unlock()
	if fail {
		http.Error(w, "<Error><Code>InternalError</Code></Error>", http.StatusInternalServerError)
		return
	}
	w.WriteHeader(http.StatusOK)
}
