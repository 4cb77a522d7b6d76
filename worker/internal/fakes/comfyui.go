package fakes

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"
)

// PromptPlan says how the fake ComfyUI runs a prompt.
type PromptPlan struct {
	RunTime time.Duration // execution time, once the prompt is at the head of the queue
	// Until, when set, keeps the prompt running past RunTime until it is
	// closed: a test ends a job right after the worker did what it checks.
	Until      <-chan struct{}
	Error      string // non-empty: the prompt fails with this exception
	OutputSize int64  // bytes of the output file
	NoLength   bool   // /view without Content-Length (chunked)
	Filename   string // default out_<prompt id>_.png
}

// ComfyUI fakes the local ComfyUI API as ComfyUI's server.py and
// execution.py (PromptQueue) behave: one prompt executes at a time, in
// submission order; a prompt is pending, then running, then in the history;
// the queue and the history live in memory only, so a restart (Restart)
// forgets both. Routes: GET /system_stats, POST /upload/image, POST /prompt,
// GET /history/{id} ({} for an unknown id), GET /queue, POST /queue
// ({"clear": true} drops pending prompts, {"delete": [ids]} drops those),
// POST /interrupt (stops the running prompt), GET /view.
type ComfyUI struct {
	Server *httptest.Server
	// Plan decides each prompt's behaviour from its body.
	Plan func(prompt json.RawMessage) PromptPlan

	mux  *http.ServeMux
	addr string
	url  string

	mu         sync.Mutex
	ready      bool
	queue      []*fakePrompt // pending and running, in execution order
	history    map[string]*fakePrompt
	files      map[string]PromptPlan // output file name -> plan; files outlive restarts
	freeAt     time.Time             // when the executor finished its last prompt
	submitted  int
	interrupts int
	clears     int
	uploads    map[string]int64
	viewCount  int
}

type fakePrompt struct {
	id          string
	number      int
	plan        PromptPlan
	clientID    string
	submitted   time.Time
	started     time.Time // zero while pending
	ended       time.Time
	interrupted bool
}

// NewComfyUI starts a ready fake whose prompts finish at once with a 1 KiB PNG.
func NewComfyUI() *ComfyUI {
	c := &ComfyUI{ready: true, history: map[string]*fakePrompt{}, files: map[string]PromptPlan{},
		uploads: map[string]int64{},
		Plan:    func(json.RawMessage) PromptPlan { return PromptPlan{OutputSize: 1024} }}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /system_stats", c.serveStats)
	mux.HandleFunc("POST /upload/image", c.serveUpload)
	mux.HandleFunc("POST /prompt", c.servePrompt)
	mux.HandleFunc("GET /history/{id}", c.serveHistory)
	mux.HandleFunc("GET /queue", c.serveQueue)
	mux.HandleFunc("POST /queue", c.serveQueueEdit)
	mux.HandleFunc("GET /view", c.serveView)
	mux.HandleFunc("POST /interrupt", c.serveInterrupt)
	c.mux = mux
	c.Server = httptest.NewServer(mux)
	c.addr = c.Server.Listener.Addr().String()
	c.url = c.Server.URL
	return c
}

// URL is the base URL; it stays the same across Stop/Start.
func (c *ComfyUI) URL() string { return c.url }

// Close stops the server.
func (c *ComfyUI) Close() { c.Server.Close() }

// Stop kills the fake ComfyUI: its port refuses connections until Start.
func (c *ComfyUI) Stop() { c.Server.Close() }

// Start serves again on the same address. forget models a ComfyUI restart:
// the queue and the history are gone (output files stay on disk).
func (c *ComfyUI) Start(forget bool) {
	if forget {
		c.mu.Lock()
		c.queue, c.history, c.freeAt = nil, map[string]*fakePrompt{}, time.Time{}
		c.mu.Unlock()
	}
	var l net.Listener
	var err error
	for range 100 { // the port was just closed; listening again may take a moment
		if l, err = net.Listen("tcp", c.addr); err == nil {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err != nil {
		panic(fmt.Sprintf("fake ComfyUI: listen again on %s: %v", c.addr, err))
	}
	s := httptest.NewUnstartedServer(c.mux)
	s.Listener.Close()
	s.Listener = l
	s.Start()
	c.Server = s
}

// Restart is ComfyUI's process restarting: down for downtime, then back with
// an empty queue and history.
func (c *ComfyUI) Restart(downtime time.Duration) {
	c.Stop()
	time.Sleep(downtime)
	c.Start(true)
}

// SetReady makes /system_stats answer 200 (true) or 503.
func (c *ComfyUI) SetReady(ready bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ready = ready
}

// Enqueue queues a prompt as another client (e.g. a worker process that was
// killed) would have, and returns its prompt id.
func (c *ComfyUI) Enqueue(plan PromptPlan, clientID string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.enqueueLocked(plan, clientID)
}

func (c *ComfyUI) enqueueLocked(plan PromptPlan, clientID string) string {
	c.advanceLocked(time.Now())
	c.submitted++
	p := &fakePrompt{id: "p-" + strconv.Itoa(c.submitted), number: c.submitted, plan: plan,
		clientID: clientID, submitted: time.Now()}
	c.queue = append(c.queue, p)
	c.files[plan.filename(p.id)] = plan
	c.advanceLocked(time.Now())
	return p.id
}

// advanceLocked runs the executor up to now: the head of the queue starts
// when the previous prompt ended and ends after its RunTime or, with Until,
// at the first call that finds Until closed after that.
func (c *ComfyUI) advanceLocked(now time.Time) {
	for len(c.queue) > 0 {
		p := c.queue[0]
		if p.started.IsZero() {
			start := p.submitted
			if c.freeAt.After(start) {
				start = c.freeAt
			}
			if start.After(now) {
				return
			}
			p.started = start
		}
		end := p.started.Add(p.plan.RunTime)
		if end.After(now) {
			return
		}
		if p.plan.Until != nil {
			select {
			case <-p.plan.Until:
				end = now // the first call that sees it closed ends the prompt
			default:
				return
			}
		}
		c.finishLocked(p, end)
	}
}

func (c *ComfyUI) finishLocked(p *fakePrompt, at time.Time) {
	p.ended = at
	c.queue = c.queue[1:]
	c.history[p.id] = p
	c.freeAt = at
}

// Interrupts is how many times /interrupt was called.
func (c *ComfyUI) Interrupts() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.interrupts
}

// Clears is how many times POST /queue {"clear": true} was called.
func (c *ComfyUI) Clears() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.clears
}

// Prompts is how many prompts were queued (through /prompt or Enqueue).
func (c *ComfyUI) Prompts() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.submitted
}

// PromptInfo is what the fake knows about one prompt.
type PromptInfo struct {
	ID, ClientID         string
	Started, Ended       time.Time
	Interrupted, Running bool
	InHistory, InQueue   bool
}

// Prompt describes prompt id ("p-<n>", n counting from 1 across restarts).
func (c *ComfyUI) Prompt(id string) PromptInfo {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.advanceLocked(time.Now())
	info := PromptInfo{ID: id}
	fill := func(p *fakePrompt) {
		info.ClientID, info.Started, info.Ended, info.Interrupted = p.clientID, p.started, p.ended, p.interrupted
	}
	if p, ok := c.history[id]; ok {
		fill(p)
		info.InHistory = true
	}
	for i, p := range c.queue {
		if p.id == id {
			fill(p)
			info.InQueue, info.Running = true, i == 0 && !p.started.IsZero()
		}
	}
	return info
}

// QueueLen is how many prompts are running or pending.
func (c *ComfyUI) QueueLen() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.advanceLocked(time.Now())
	return len(c.queue)
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
	id := c.enqueueLocked(plan, body.ClientID)
	number := c.submitted
	c.mu.Unlock()
	_ = json.NewEncoder(w).Encode(map[string]any{"prompt_id": id, "number": number, "node_errors": map[string]any{}})
}

func (c *ComfyUI) serveHistory(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	c.mu.Lock()
	c.advanceLocked(time.Now())
	p, ok := c.history[id]
	c.mu.Unlock()
	if !ok {
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

// serveQueue answers as server.py's GET /queue: items are
// [number, prompt_id, prompt, extra_data, outputs_to_execute].
func (c *ComfyUI) serveQueue(w http.ResponseWriter, _ *http.Request) {
	c.mu.Lock()
	c.advanceLocked(time.Now())
	running, pending := []any{}, []any{}
	for _, p := range c.queue {
		item := []any{p.number, p.id, map[string]any{}, map[string]any{"client_id": p.clientID}, []string{"9"}}
		if p.started.IsZero() {
			pending = append(pending, item)
		} else {
			running = append(running, item)
		}
	}
	c.mu.Unlock()
	_ = json.NewEncoder(w).Encode(map[string]any{"queue_running": running, "queue_pending": pending})
}

// serveQueueEdit is server.py's POST /queue: "clear" wipes the pending
// prompts, "delete" removes the listed pending ones; the running one stays.
func (c *ComfyUI) serveQueueEdit(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Clear  bool     `json:"clear"`
		Delete []string `json:"delete"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		http.Error(w, "bad json", http.StatusBadRequest)
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.advanceLocked(time.Now())
	if body.Clear {
		c.clears++
	}
	kept := c.queue[:0:0]
	for _, p := range c.queue {
		drop := p.started.IsZero() && (body.Clear || contains(body.Delete, p.id))
		if !drop {
			kept = append(kept, p)
		}
	}
	c.queue = kept
	w.WriteHeader(http.StatusOK)
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
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
	plan, ok := c.files[name]
	c.mu.Unlock()
	if !ok || r.URL.Query().Get("type") != "output" {
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

// serveInterrupt is server.py's POST /interrupt: the running prompt stops
// (it ends in the history as interrupted) and the next one may start.
func (c *ComfyUI) serveInterrupt(w http.ResponseWriter, _ *http.Request) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now()
	c.advanceLocked(now)
	c.interrupts++
	if len(c.queue) > 0 && !c.queue[0].started.IsZero() {
		c.queue[0].interrupted = true
		c.finishLocked(c.queue[0], now)
		c.advanceLocked(now)
	}
	w.WriteHeader(http.StatusOK)
}
