package comfyui

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/bp/infra/worker/internal/retry"
)

// File is one output file as ComfyUI names it for /view.
type File struct {
	Filename  string `json:"filename"`
	Subfolder string `json:"subfolder"`
	Type      string `json:"type"`
}

type historyEntry struct {
	Status struct {
		StatusStr string            `json:"status_str"`
		Completed bool              `json:"completed"`
		Messages  []json.RawMessage `json:"messages"`
	} `json:"status"`
	Outputs map[string]map[string]json.RawMessage `json:"outputs"`
}

// Outputs maps node id to the files that node produced.
type Outputs map[string][]File

// ErrPromptLost: ComfyUI answers but knows the prompt neither in its history
// nor in its queue. Both live in the ComfyUI process's memory, so this means
// ComfyUI restarted while the prompt ran and the prompt will never finish.
var ErrPromptLost = errors.New("ComfyUI no longer knows the prompt (it restarted)")

// WaitDone polls /history/<id> every interval until the prompt succeeded
// (returning its outputs) or failed (a *JobError), or ctx ends. While history
// does not have the prompt it checks /queue: a prompt in neither was lost by a
// ComfyUI restart (ErrPromptLost). When ComfyUI does not answer for
// unreachableFor, it gives up with an error wrapping ErrUnreachable.
func (c *Client) WaitDone(ctx context.Context, promptID string, interval, unreachableFor time.Duration) (Outputs, error) {
	var failingSince time.Time
	for {
		entry, err := c.status(ctx, promptID)
		switch {
		case err == nil:
			failingSince = time.Time{}
		case ctx.Err() != nil:
			return nil, err
		case errors.Is(err, ErrPromptLost):
			return nil, fmt.Errorf("prompt %s: %w", promptID, err)
		default:
			// A failed read is polled again, for a while.
			if failingSince.IsZero() {
				failingSince = time.Now()
			}
			if down := time.Since(failingSince); down >= unreachableFor {
				return nil, fmt.Errorf("prompt %s: %w: no answer for %s: %w", promptID, ErrUnreachable, down.Round(time.Second), err)
			}
		}
		if entry != nil {
			if entry.Status.StatusStr == "error" {
				return nil, &JobError{Msg: "ComfyUI execution failed: " + executionError(entry.Status.Messages)}
			}
			if entry.Status.Completed || entry.Status.StatusStr == "success" {
				return collectFiles(entry.Outputs), nil
			}
		}
		if serr := retry.Sleep(ctx, interval); serr != nil {
			return nil, serr
		}
	}
}

// status is the prompt's history entry, nil while it is queued or running, or
// ErrPromptLost. ComfyUI moves a prompt from the queue into the history in
// one step under its queue lock (PromptQueue.task_done), so a prompt missing
// from the queue is either in the history or gone: the history is read again
// after the queue to tell the two apart.
func (c *Client) status(ctx context.Context, promptID string) (*historyEntry, error) {
	entry, err := c.history(ctx, promptID)
	if err != nil || entry != nil {
		return entry, err
	}
	q, err := c.Queue(ctx)
	if err != nil || q.Has(promptID) {
		return nil, err
	}
	entry, err = c.history(ctx, promptID)
	if err != nil || entry != nil {
		return entry, err
	}
	return nil, ErrPromptLost
}

func (c *Client) history(ctx context.Context, promptID string) (*historyEntry, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.url("/history/"+url.PathEscape(promptID), nil), nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return nil, unreachable("/history", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("comfyui /history: HTTP %d", resp.StatusCode)
	}
	var all map[string]historyEntry
	if err := json.NewDecoder(io.LimitReader(resp.Body, 16<<20)).Decode(&all); err != nil {
		return nil, fmt.Errorf("comfyui /history: decode: %w", err)
	}
	e, ok := all[promptID]
	if !ok {
		return nil, nil // still queued or running
	}
	return &e, nil
}

// executionError digs the exception message out of ComfyUI's status messages
// (["execution_error", {"node_id":..., "exception_message":...}]).
func executionError(msgs []json.RawMessage) string {
	for _, m := range msgs {
		var pair []json.RawMessage
		if json.Unmarshal(m, &pair) != nil || len(pair) != 2 {
			continue
		}
		var kind string
		_ = json.Unmarshal(pair[0], &kind)
		if kind != "execution_error" && kind != "execution_interrupted" {
			continue
		}
		var d struct {
			NodeID           string `json:"node_id"`
			NodeType         string `json:"node_type"`
			ExceptionType    string `json:"exception_type"`
			ExceptionMessage string `json:"exception_message"`
		}
		_ = json.Unmarshal(pair[1], &d)
		if kind == "execution_interrupted" {
			return "execution interrupted"
		}
		return strings.TrimSpace(fmt.Sprintf("node %s (%s): %s %s", d.NodeID, d.NodeType, d.ExceptionType, d.ExceptionMessage))
	}
	return "no error message in history"
}

// collectFiles reads every list of files in each node's outputs (images, gifs,
// videos, audio...), skipping non-file values such as text.
func collectFiles(outs map[string]map[string]json.RawMessage) Outputs {
	res := Outputs{}
	for node, kinds := range outs {
		names := make([]string, 0, len(kinds))
		for k := range kinds {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			var files []File
			if json.Unmarshal(kinds[k], &files) != nil {
				continue
			}
			for _, f := range files {
				if f.Filename != "" {
					res[node] = append(res[node], f)
				}
			}
		}
	}
	return res
}

// Pick returns the output file of nodeID, or when nodeID is empty the first
// file of the lowest-numbered node that produced one.
func (o Outputs) Pick(nodeID string) (File, error) {
	if nodeID != "" {
		files := o[nodeID]
		if len(files) == 0 {
			return File{}, &JobError{Msg: fmt.Sprintf("output node %s produced no file", nodeID)}
		}
		return files[0], nil
	}
	nodes := make([]string, 0, len(o))
	for n := range o {
		nodes = append(nodes, n)
	}
	sort.Slice(nodes, func(i, j int) bool {
		if len(nodes[i]) != len(nodes[j]) {
			return len(nodes[i]) < len(nodes[j])
		}
		return nodes[i] < nodes[j]
	})
	for _, n := range nodes {
		if len(o[n]) > 0 {
			return o[n][0], nil
		}
	}
	return File{}, &JobError{Msg: "the workflow produced no output file"}
}
