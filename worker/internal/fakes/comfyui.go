package fakes

import (
	"encoding/json"

	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"
)

// PromptPlan says how the fake ComfyUI runs a prompt.
type PromptPlan struct {
	RunTime    time.Duration // until history shows the result
	Error      string        // non-empty: the prompt fails with this exception
	OutputSize int64         // bytes of the output file
	NoLength   bool          // /view without Content-Length (chunked)
	Filename   string        // default out_00001_.png
}

// ComfyUI fakes the local ComfyUI API.
type ComfyUI struct {
	Server *httptest.Server
	// Plan decides each prompt's behaviour from its body.
	Plan func(prompt json.RawMessage) PromptPlan

	mu         sync.Mutex
	ready      bool
	prompts    map[string]*fakePrompt
	order      []string
	uploads    map[string]int64
	interrupts int
	viewCount  int
}

type fakePrompt struct {
	plan        PromptPlan
	started     time.Time
	interrupted bool
	clientID    string
}

// NewComfyUI starts a ready fake whose prompts finish at once with a 1 KiB PNG.
func NewComfyUI() *ComfyUI {
	c := &ComfyUI{ready: true, prompts: map[string]*fakePrompt{}, uploads: map[string]int64{},
		Plan: func(json.RawMessage) PromptPlan { return PromptPlan{OutputSize: 1024} }}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /system_stats", c.serveStats)
	mux.HandleFunc("POST /upload/image", c.serveUpload)
	mux.HandleFunc("POST /prompt", c.servePrompt)
	mux.HandleFunc("GET /history/{id}", c.serveHistory)
	mux.HandleFunc("GET /view", c.serveView)
	mux.HandleFunc("POST /interrupt", c.serveInterrupt)
	mux.HandleFunc("POST /queue", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })
	c.Server = httptest.NewServer(mux)
	return c
}

// Close stops the server.
func (c *ComfyUI) Close() { c.Server.Close() }

// SetReady makes /system_stats answer 200 (true) or 503.
func (c *ComfyUI) SetReady(ready bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ready = ready
}

// Interrupts is how many times /interrupt was called.
func (c *ComfyUI) Interrupts() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.interrupts
}

// Prompts is how many prompts were submitted.
func (c *ComfyUI) Prompts() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.order)
}

// Uploaded returns the size of an uploaded input file, or -1.
func (c *ComfyUI) Uploaded(name string) int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	if n, ok := c.uploads[name]; ok {
		return n
	}
	return -1
}

func (c *ComfyUI) serveStats(w http.ResponseWriter, _ *http.Request) {
	c.mu.Lock()
	ready := c.ready
	c.mu.Unlock()
	if !ready {
		http.Error(w, "starting", http.StatusServiceUnavailable)
		return
	}
	_, _ = io.WriteString(w, `{"system":{"os":"posix"},"devices":[]}`)
}

func (c *ComfyUI) serveUpload(w http.ResponseWriter, r *http.Request) {
	f, hdr, err := r.FormFile("image")
	if err != nil {
		http.Error(w, "no image field", http.StatusBadRequest)
		return
	}
	defer f.Close()
	n, _ := io.Copy(io.Discard, f)
	c.mu.Lock()
	c.uploads[hdr.Filename] = n
	c.mu.Unlock()
	_ = json.NewEncoder(w).Encode(map[string]string{"name": hdr.Filename, "subfolder": "", "type": "input"})
}

func (c *ComfyUI) servePrompt(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Prompt   json.RawMessage `json:"prompt"`
		ClientID string          `json:"client_id"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil || len(body.Prompt) == 0 {
		w.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(w, `{"error":{"type":"invalid_prompt","message":"no prompt"},"node_errors":{}}`)
		return
	}
	plan := c.Plan(body.Prompt)
	c.mu.Lock()
	id := "p-" + strconv.Itoa(len(c.order)+1)
	c.prompts[id] = &fakePrompt{plan: plan, started: time.Now(), clientID: body.ClientID}
	c.order = append(c.order, id)
	c.mu.Unlock()
	_ = json.NewEncoder(w).Encode(map[string]any{"prompt_id": id, "number": 1, "node_errors": map[string]any{}})
}

func (c *ComfyUI) serveHistory(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	c.mu.Lock()
	p, ok := c.prompts[id]
	c.mu.Unlock()
	if !ok || (!p.interrupted && time.Since(p.started) < p.plan.RunTime) {
		_, _ = io.WriteString(w, `{}`)
		return
	}
	entry := map[string]any{}
	switch {
	case p.interrupted:
		entry["status"] = map[string]any{"status_str": "error", "completed": false,
			"messages": []any{[]any{"execution_interrupted", map[string]any{"prompt_id": id}}}}
		entry["outputs"] = map[string]any{}
	case p.plan.Error != "":
		entry["status"] = map[string]any{"status_str": "error", "completed": false,
			"messages": []any{[]any{"execution_start", map[string]any{}}, []any{"execution_error", map[string]any{
				"node_id": "3", "node_type": "KSampler", "exception_type": "RuntimeError", "exception_message": p.plan.Error}}}}
		entry["outputs"] = map[string]any{}
	default:
		entry["status"] = map[string]any{"status_str": "success", "completed": true, "messages": []any{}}
		entry["outputs"] = map[string]any{"9": map[string]any{
			"images": []any{map[string]string{"filename": p.plan.filename(id), "subfolder": "", "type": "output"}},
		}, "10": map[string]any{"text": []string{"not a file"}}}
	}
	_ = json.NewEncoder(w).Encode(map[string]any{id: entry})
}

// filename is the output file of prompt id: unique per prompt, as ComfyUI's
// counter makes it, so /view serves each prompt its own output.
func (p PromptPlan) filename(id string) string {
	if p.Filename != "" {
		return p.Filename
	}
	return "out_" + id + "_.png"
}

func (c *ComfyUI) serveView(w http.ResponseWriter, r *http.Request) {
	name := r.URL.Query().Get("filename")
	c.mu.Lock()
	c.viewCount++
	var plan *PromptPlan
	for id, p := range c.prompts {
		if p.plan.filename(id) == name {
			plan = &p.plan
		}
	}
	c.mu.Unlock()
	if plan == nil || r.URL.Query().Get("type") != "output" {
		http.NotFound(w, r)
		return
	}
	if !plan.NoLength {
		w.Header().Set("Content-Length", strconv.FormatInt(plan.OutputSize, 10))
	}
	w.Header().Set("Content-Type", "image/png")
	// Stream generated bytes: a large output is never built in memory here either.
	chunk := []byte(strings.Repeat("x", 32<<10))
	for left := plan.OutputSize; left > 0; {
		n := min(left, int64(len(chunk)))
		if _, err := w.Write(chunk[:n]); err != nil {
			return
		}
		left -= n
		if plan.NoLength {
			if f, ok := w.(http.Flusher); ok {
				f.Flush()
			}
		}
	}
}

func (c *ComfyUI) serveInterrupt(w http.ResponseWriter, _ *http.Request) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.interrupts++
	for _, p := range c.prompts {
		if time.Since(p.started) < p.plan.RunTime {
			p.interrupted = true
		}
	}
	w.WriteHeader(http.StatusOK)
}
