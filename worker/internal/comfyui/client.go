// Package comfyui is a client for the local ComfyUI HTTP API: readiness,
// uploads, prompt submission, history polling, output download, interrupt.
package comfyui

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/bp/infra/worker/internal/retry"
)

// Client talks to one ComfyUI server.
type Client struct {
	BaseURL string
	HTTP    *http.Client
}

func (c *Client) url(path string, q url.Values) string {
	u := strings.TrimRight(c.BaseURL, "/") + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	return u
}

// Ping checks /system_stats once.
func (c *Client) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.url("/system_stats", nil), nil)
	if err != nil {
		return err
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return unreachable("/system_stats", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("comfyui /system_stats: %w: HTTP %d", ErrUnreachable, resp.StatusCode)
	}
	return nil
}

// ErrUnreachable marks a failure of ComfyUI itself (no connection, or
// /system_stats not answering 200), as opposed to a failure of the job.
var ErrUnreachable = errors.New("ComfyUI unreachable")

// unreachable wraps a transport error of a call to path.
func unreachable(path string, err error) error {
	return fmt.Errorf("comfyui %s: %w: %w", path, ErrUnreachable, err)
}

// WaitReady polls /system_stats every interval until it answers 200 or ctx ends.
func (c *Client) WaitReady(ctx context.Context, interval time.Duration, onWait func(error)) error {
	for {
		err := c.Ping(ctx)
		if err == nil {
			return nil
		}
		if onWait != nil {
			onWait(err)
		}
		if serr := retry.Sleep(ctx, interval); serr != nil {
			return fmt.Errorf("comfyui not ready: %w (last error: %w)", serr, err)
		}
	}
}

// Submit queues a prompt (API-format workflow) and returns its prompt_id.
func (c *Client) Submit(ctx context.Context, prompt json.RawMessage, clientID string) (string, error) {
	body, err := json.Marshal(map[string]any{"prompt": prompt, "client_id": clientID})
	if err != nil {
		return "", fmt.Errorf("encode prompt: %w", err)
	}
	var out struct {
		PromptID   string          `json:"prompt_id"`
		Error      json.RawMessage `json:"error"`
		NodeErrors json.RawMessage `json:"node_errors"`
	}
	status, raw, err := c.postJSON(ctx, "/prompt", body, &out)
	if err != nil {
		return "", err
	}
	if status != http.StatusOK || out.PromptID == "" {
		return "", &JobError{Msg: fmt.Sprintf("ComfyUI rejected the workflow (HTTP %d): %s", status, truncate(raw, 500))}
	}
	return out.PromptID, nil
}

// Interrupt stops the prompt ComfyUI is running and removes promptID from its
// queue if it has not started yet.
func (c *Client) Interrupt(ctx context.Context, promptID string) error {
	if _, _, err := c.postJSON(ctx, "/interrupt", []byte(`{}`), nil); err != nil {
		return err
	}
	if promptID == "" {
		return nil
	}
	body, _ := json.Marshal(map[string][]string{"delete": {promptID}})
	_, _, err := c.postJSON(ctx, "/queue", body, nil)
	return err
}

func (c *Client) postJSON(ctx context.Context, path string, body []byte, out any) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url(path, nil), strings.NewReader(string(body)))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return 0, nil, unreachable(path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return resp.StatusCode, nil, fmt.Errorf("comfyui %s: read reply: %w", path, err)
	}
	if out != nil && resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(raw, out); err != nil {
			return resp.StatusCode, raw, fmt.Errorf("comfyui %s: decode reply: %w", path, err)
		}
	} else if out != nil {
		_ = json.Unmarshal(raw, out)
	}
	if resp.StatusCode >= 500 {
		return resp.StatusCode, raw, fmt.Errorf("comfyui %s: HTTP %d: %s", path, resp.StatusCode, truncate(raw, 300))
	}
	return resp.StatusCode, raw, nil
}

// JobError is a failure caused by the job itself (bad workflow, execution
// error): report it to the backend with fail, do not retry.
type JobError struct{ Msg string }

func (e *JobError) Error() string { return e.Msg }

func truncate(b []byte, n int) string {
	s := strings.TrimSpace(string(b))
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}
