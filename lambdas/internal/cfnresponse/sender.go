package cfnresponse

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// Sender PUTs responses to the pre-signed ResponseURL, retrying because a lost
// response leaves the stack waiting for the custom resource timeout.
type Sender struct {
	Client   *http.Client
	Attempts int           // total tries; default 5
	Backoff  time.Duration // first wait between tries, doubled each time; default 1s
}

func (s Sender) attempts() int {
	if s.Attempts > 0 {
		return s.Attempts
	}
	return 5
}

func (s Sender) backoff() time.Duration {
	if s.Backoff > 0 {
		return s.Backoff
	}
	return time.Second
}

func (s Sender) client() *http.Client {
	if s.Client != nil {
		return s.Client
	}
	return &http.Client{Timeout: 15 * time.Second}
}

// Send PUTs body to url until it gets a 2xx, the attempts run out or ctx ends.
func (s Sender) Send(ctx context.Context, url string, body []byte) error {
	var errs []error
	wait := s.backoff()
	for attempt := 1; attempt <= s.attempts(); attempt++ {
		err := s.put(ctx, url, body)
		if err == nil {
			return nil
		}
		errs = append(errs, fmt.Errorf("attempt %d: %w", attempt, err))
		if attempt == s.attempts() {
			break
		}
		select {
		case <-ctx.Done():
			errs = append(errs, ctx.Err())
			return fmt.Errorf("put custom resource response: %w", errors.Join(errs...))
		case <-time.After(wait):
		}
		wait *= 2
	}
	return fmt.Errorf("put custom resource response: %w", errors.Join(errs...))
}

func (s Sender) put(ctx context.Context, url string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("build request: %w", err)
	}
	// The URL is pre-signed by S3 with an empty content type; sending any other
	// value makes the signature check fail with 403.
	req.Header["Content-Type"] = []string{""}
	resp, err := s.client().Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("status %d: %s", resp.StatusCode, bytes.TrimSpace(snippet))
	}
	return nil
}
