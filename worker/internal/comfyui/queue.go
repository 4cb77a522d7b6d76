package comfyui

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
)

// QueueState is ComfyUI's GET /queue: the prompt ids it is running and the
// ones waiting. ComfyUI (server.py) answers
// {"queue_running": [[number, prompt_id, prompt, extra_data, outputs], ...],
// "queue_pending": [...]}; both live only in the ComfyUI process's memory.
type QueueState struct {
	Running []string
	Pending []string
}

// Empty reports whether ComfyUI has nothing running or waiting.
func (q QueueState) Empty() bool { return len(q.Running) == 0 && len(q.Pending) == 0 }

// Has reports whether promptID is running or waiting.
func (q QueueState) Has(promptID string) bool {
	for _, ids := range [][]string{q.Running, q.Pending} {
		for _, id := range ids {
			if id == promptID {
				return true
			}
		}
	}
	return false
}

// Queue reads GET /queue.
func (c *Client) Queue(ctx context.Context) (QueueState, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.url("/queue", nil), nil)
	if err != nil {
		return QueueState{}, err
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return QueueState{}, unreachable("/queue", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return QueueState{}, fmt.Errorf("comfyui /queue: HTTP %d", resp.StatusCode)
	}
	var raw struct {
		Running [][]json.RawMessage `json:"queue_running"`
		Pending [][]json.RawMessage `json:"queue_pending"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<20)).Decode(&raw); err != nil {
		return QueueState{}, fmt.Errorf("comfyui /queue: decode: %w", err)
	}
	var q QueueState
	q.Running, err = promptIDs(raw.Running)
	if err == nil {
		q.Pending, err = promptIDs(raw.Pending)
	}
	return q, err
}

// promptIDs takes the prompt id, the second element, of each queue item.
func promptIDs(items [][]json.RawMessage) ([]string, error) {
	ids := make([]string, 0, len(items))
	for _, it := range items {
		var id string
		if len(it) < 2 || json.Unmarshal(it[1], &id) != nil {
			return nil, fmt.Errorf("comfyui /queue: an item is not [number, prompt_id, ...]")
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// ClearQueue removes every pending prompt (POST /queue {"clear": true}) and
// then interrupts the running one (POST /interrupt), in that order so that no
// pending prompt starts in the place of the interrupted one.
func (c *Client) ClearQueue(ctx context.Context) error {
	if _, _, err := c.postJSON(ctx, "/queue", []byte(`{"clear":true}`), nil); err != nil {
		return err
	}
	_, _, err := c.postJSON(ctx, "/interrupt", []byte(`{}`), nil)
	return err
}
