package comfyui

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

type brokenReader struct{}

func (brokenReader) Read([]byte) (int, error) { return 0, errors.New("connection reset by S3") }

// A failed asset read is the download's failure; only a ComfyUI that does not
// take the connection is "unreachable" (the job is then requeued, not failed).
func TestUploadImageTellsAssetFailureFromComfyFailure(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		_, _ = w.Write([]byte(`{"name":"a.png"}`))
	}))
	c := &Client{BaseURL: srv.URL, HTTP: srv.Client()}
	_, err := c.UploadImage(context.Background(), "a.png", io.MultiReader(strings.NewReader("abc"), brokenReader{}))
	if err == nil || errors.Is(err, ErrUnreachable) || !strings.Contains(err.Error(), "read asset a.png") {
		t.Fatalf("asset read failure reported as %v", err)
	}
	if name, err := c.UploadImage(context.Background(), "a.png", strings.NewReader("abc")); err != nil || name != "a.png" {
		t.Fatalf("upload: %q %v", name, err)
	}
	srv.Close()
	if _, err := c.UploadImage(context.Background(), "a.png", strings.NewReader("abc")); !errors.Is(err, ErrUnreachable) {
		t.Fatalf("ComfyUI down reported as %v", err)
	}
}
