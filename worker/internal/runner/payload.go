package runner

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	"github.com/bp/infra/worker/internal/backend"
	"github.com/bp/infra/worker/internal/comfyui"
)

// Payload is the part of input_payload the worker understands.
type Payload struct {
	// Workflow is the ComfyUI API-format prompt ("prompt" is accepted too).
	Workflow     json.RawMessage `json:"workflow"`
	Prompt       json.RawMessage `json:"prompt"`
	OutputNodeID json.RawMessage `json:"output_node_id"`
	Assets       []Asset         `json:"assets"`
}

// Asset is an input file to download and upload to ComfyUI before the prompt.
type Asset struct {
	URL      string `json:"url"`
	Filename string `json:"filename"`
	Name     string `json:"name"` // accepted instead of filename
}

func (a Asset) fileName() string {
	if a.Filename != "" {
		return a.Filename
	}
	return a.Name
}

// workflow returns the prompt to submit.
func (p Payload) workflow() json.RawMessage {
	if len(p.Workflow) > 0 && string(p.Workflow) != "null" {
		return p.Workflow
	}
	return p.Prompt
}

// outputNode is output_node_id as a string whether it came as a number or not.
func (p Payload) outputNode() string {
	if len(p.OutputNodeID) == 0 || string(p.OutputNodeID) == "null" {
		return ""
	}
	var s string
	if json.Unmarshal(p.OutputNodeID, &s) == nil {
		return s
	}
	return string(p.OutputNodeID)
}

// loadPayload decodes input_payload, fetching input_url when the payload was
// not sent inline.
func loadPayload(ctx context.Context, hc *http.Client, job *backend.Job) (Payload, error) {
	raw := job.InputPayload
	if (len(raw) == 0 || string(raw) == "null") && job.InputURL != "" {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, job.InputURL, nil)
		if err != nil {
			return Payload{}, &comfyui.JobError{Msg: "bad input_url: " + err.Error()}
		}
		resp, err := hc.Do(req)
		if err != nil {
			return Payload{}, fmt.Errorf("download input_url: %w", err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return Payload{}, fmt.Errorf("download input_url: HTTP %d", resp.StatusCode)
		}
		if raw, err = io.ReadAll(io.LimitReader(resp.Body, 64<<20)); err != nil {
			return Payload{}, fmt.Errorf("download input_url: %w", err)
		}
	}
	var p Payload
	if err := json.Unmarshal(raw, &p); err != nil {
		return Payload{}, &comfyui.JobError{Msg: "input_payload is not a JSON object: " + err.Error()}
	}
	if len(p.workflow()) == 0 || string(p.workflow()) == "null" {
		return Payload{}, &comfyui.JobError{Msg: "input_payload has no workflow"}
	}
	for i, a := range p.Assets {
		if a.URL == "" || a.fileName() == "" {
			return Payload{}, &comfyui.JobError{Msg: fmt.Sprintf("input_payload.assets[%d] needs url and filename", i)}
		}
	}
	return p, nil
}
