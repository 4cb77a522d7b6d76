package fakes

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Job states in the ledger.
const (
	Queued    = "queued"
	Leased    = "leased"
	Completed = "completed"
	Failed    = "failed"
)

// JobRecord is the ledger line of one job.
type JobRecord struct {
	ID           int
	State        string
	Attempts     int // fails, as the backend counts them
	Leases       int // how many times it was handed out
	LeaseToken   string
	Worker       string
	LeaseExpires time.Time
	Completions  int
	Heartbeats   int
	Requeues     []string // reasons
	Output       map[string]any
	FailMessage  string
	Events       []string
	Payload      json.RawMessage
	// ended maps the lease tokens whose lease the worker itself ended
	// (complete, fail, requeue) to that verb.
	ended map[string]string
}

// Backend fakes the Laravel worker API of system-facts section 8.
type Backend struct {
	Server *httptest.Server
	Secret string
	// LeaseTTL is how long a lease lasts without heartbeat (900 s in production).
	LeaseTTL time.Duration
	// Fault, if set, may answer a call with an error status instead of serving it.
	Fault func(verb string, n int) (status int, retryAfter string, inject bool)
	// Refuse, if set, may answer a call HTTP 200 with "success": false.
	Refuse func(verb string, n int) (message string, refuse bool)
	// Uploads receives output PUTs at /upload/<id>; UploadFault may refuse one.
	UploadFault func(n int) (status int, inject bool)
	// OutputURL, if set, is the output_url handed out with job id (default
	// <server>/upload/<id>).
	OutputURL func(id int) string
	// OnLease, if set, runs (under the backend's lock: it must not call the
	// Backend) each time poll hands job id out.
	OnLease func(id int)
	// LenientHeartbeats answers 200 to a heartbeat for a lease that already
	// ended, as a backend that checks only the worker's token might; the
	// heartbeat is still recorded as a violation.
	LenientHeartbeats bool
	// OnCall, if set, runs before an API call is served and may block (without
	// the Backend's lock): a slow backend that still acts on a call whose
	// sender gave up waiting.
	OnCall func(verb string)

	mu         sync.Mutex
	jobs       []*JobRecord
	tokens     map[string]string // token -> worker id
	workers    map[string]string // worker id -> token
	calls      map[string]int
	violations []string
	log        []Call
	uploads    map[int]Upload
	putCount   int
	assets     map[string][]byte
}

// Upload is a stored output PUT.
type Upload struct {
	Size        int64
	ContentType string
	Headers     http.Header
}

// Call is one API request as the backend saw it.
type Call struct {
	Verb       string
	At         time.Time // arrival
	DispatchID string    // "" for calls without one
	Status     int       // HTTP status answered
}

// Log returns every API call so far, in arrival order.
func (b *Backend) Log() []Call {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]Call(nil), b.log...)
}

// NewBackend starts the fake.
func NewBackend(secret string) *Backend {
	b := &Backend{Secret: secret, LeaseTTL: 900 * time.Second, tokens: map[string]string{},
		workers: map[string]string{}, calls: map[string]int{}, uploads: map[int]Upload{}, assets: map[string][]byte{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/worker/{verb}", b.serveAPI)
	mux.HandleFunc("PUT /upload/{id}", b.serveUpload)
	mux.HandleFunc("GET /assets/{name}", b.serveAsset)
	b.Server = httptest.NewServer(mux)
	return b
}

// Close stops the server.
func (b *Backend) Close() { b.Server.Close() }

// URL is the API base URL.
func (b *Backend) URL() string { return b.Server.URL }

// AddAsset serves data at /assets/<name> (a presigned asset URL stand-in).
func (b *Backend) AddAsset(name string, data []byte) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.assets[name] = data
	return b.Server.URL + "/assets/" + name
}

// AddJob queues a job whose input_payload is payload.
func (b *Backend) AddJob(payload any) int {
	raw, _ := json.Marshal(payload)
	b.mu.Lock()
	defer b.mu.Unlock()
	j := &JobRecord{ID: len(b.jobs) + 1, State: Queued, Payload: raw}
	b.jobs = append(b.jobs, j)
	return j.ID
}

// Job returns a copy of a ledger line.
func (b *Backend) Job(id int) JobRecord {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.expireLocked()
	j := *b.jobs[id-1]
	j.Events = append([]string(nil), j.Events...)
	j.Requeues = append([]string(nil), j.Requeues...)
	return j
}

// RevokeLease takes the job back as if its lease had expired.
func (b *Backend) RevokeLease(id int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	j := b.jobs[id-1]
	if j.State == Leased {
		j.State, j.LeaseToken, j.Worker = Queued, "", ""
		j.Events = append(j.Events, "revoked")
	}
}

// Hold keeps a queued job from being handed out (so a test can look at it).
func (b *Backend) Hold(id int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.jobs[id-1].Events = append(b.jobs[id-1].Events, "held")
	b.jobs[id-1].State = "held"
}

// Calls returns how many times verb was called ("" for all).
func (b *Backend) Calls(verb string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	if verb != "" {
		return b.calls[verb]
	}
	n := 0
	for _, c := range b.calls {
		n += c
	}
	return n
}

// Registered reports whether workerID is registered.
func (b *Backend) Registered(workerID string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	_, ok := b.workers[workerID]
	return ok
}

// Uploaded returns the stored output of a job.
func (b *Backend) Uploaded(id int) (Upload, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	u, ok := b.uploads[id]
	return u, ok
}

// CheckLedger fails when any job was lost or run twice: every job must be
// completed, failed or queued again (none still leased, unless allowLeased),
// completed at most once, and the backend saw no forbidden call.
func (b *Backend) CheckLedger(allowLeased bool) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.expireLocked()
	var problems []string
	problems = append(problems, b.violations...)
	for _, j := range b.jobs {
		if j.Completions > 1 {
			problems = append(problems, fmt.Sprintf("job %d completed %d times", j.ID, j.Completions))
		}
		switch j.State {
		case Completed, Failed, Queued, "held":
		case Leased:
			if !allowLeased {
				problems = append(problems, fmt.Sprintf("job %d is still leased to %s (lost)", j.ID, j.Worker))
			}
		default:
			problems = append(problems, fmt.Sprintf("job %d in unknown state %q", j.ID, j.State))
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("ledger: %s", strings.Join(problems, "; "))
	}
	return nil
}

type reply struct {
	Success bool   `json:"success"`
	Data    any    `json:"data"`
	Message string `json:"message"`
}

// statusRecorder remembers the status written.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

func writeReply(w http.ResponseWriter, status int, data any, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(reply{Success: status < 300, Data: data, Message: msg})
}

func newToken() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// expireLocked returns jobs whose lease ran out to the queue.
func (b *Backend) expireLocked() {
	now := time.Now()
	for _, j := range b.jobs {
		if j.State == Leased && now.After(j.LeaseExpires) {
			j.State, j.LeaseToken, j.Worker = Queued, "", ""
			j.Events = append(j.Events, "lease expired")
		}
	}
}

type leaseBody struct {
	DispatchID    json.Number    `json:"dispatch_id"`
	LeaseToken    string         `json:"lease_token"`
	WorkerID      string         `json:"worker_id"`
	Reason        string         `json:"reason"`
	ErrorMessage  string         `json:"error_message"`
	ProviderJobID string         `json:"provider_job_id"`
	Output        map[string]any `json:"output"`
}

func (b *Backend) serveAPI(w http.ResponseWriter, r *http.Request) {
	verb := r.PathValue("verb")
	raw, _ := io.ReadAll(r.Body)
	if b.OnCall != nil {
		b.OnCall(verb)
	}
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	w = rec
	var ids struct {
		DispatchID json.RawMessage `json:"dispatch_id"`
	}
	_ = json.Unmarshal(raw, &ids)
	call := Call{Verb: verb, At: time.Now(), DispatchID: strings.Trim(string(ids.DispatchID), `"`)}
	b.mu.Lock()
	defer b.mu.Unlock()
	defer func() { call.Status = rec.status; b.log = append(b.log, call) }()
	b.calls[verb]++
	if b.Fault != nil {
		if status, ra, inject := b.Fault(verb, b.calls[verb]); inject {
			if ra != "" {
				w.Header().Set("Retry-After", ra)
			}
			writeReply(w, status, nil, "injected fault")
			return
		}
	}
	if b.Refuse != nil {
		if msg, refuse := b.Refuse(verb, b.calls[verb]); refuse {
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(reply{Success: false, Data: map[string]any{}, Message: msg})
			return
		}
	}
	b.expireLocked()
	if verb == "register" {
		b.registerLocked(w, raw, r.Header.Get("X-Fleet-Secret"))
		return
	}
	worker, ok := b.tokens[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")]
	if !ok {
		writeReply(w, http.StatusUnauthorized, nil, "invalid worker token")
		return
	}
	switch verb {
	case "poll":
		b.pollLocked(w, worker)
	case "heartbeat", "complete", "fail", "requeue":
		var lb leaseBody
		if err := json.Unmarshal(raw, &lb); err != nil {
			writeReply(w, http.StatusBadRequest, nil, "bad json")
			return
		}
		b.leaseCallLocked(w, verb, worker, lb)
	case "deregister":
		delete(b.workers, worker)
		for t, wid := range b.tokens {
			if wid == worker {
				delete(b.tokens, t)
			}
		}
		writeReply(w, http.StatusOK, map[string]any{}, "deregistered")
	default:
		writeReply(w, http.StatusNotFound, nil, "unknown verb")
	}
}

func (b *Backend) registerLocked(w http.ResponseWriter, raw []byte, secret string) {
	if secret != b.Secret {
		writeReply(w, http.StatusUnauthorized, nil, "invalid fleet secret")
		return
	}
	var req struct {
		WorkerID       string `json:"worker_id"`
		FleetSlug      string `json:"fleet_slug"`
		Stage          string `json:"stage"`
		MaxConcurrency int    `json:"max_concurrency"`
	}
	if json.Unmarshal(raw, &req) != nil || req.WorkerID == "" || req.FleetSlug == "" || req.Stage == "" || req.MaxConcurrency < 1 {
		writeReply(w, http.StatusUnprocessableEntity, nil, "worker_id, fleet_slug, stage and max_concurrency are required")
		return
	}
	if _, exists := b.workers[req.WorkerID]; exists {
		writeReply(w, http.StatusConflict, nil, "worker already registered")
		return
	}
	tok := newToken()
	b.workers[req.WorkerID], b.tokens[tok] = tok, req.WorkerID
	writeReply(w, http.StatusOK, map[string]string{"worker_id": req.WorkerID, "token": tok}, "registered")
}

func (b *Backend) pollLocked(w http.ResponseWriter, worker string) {
	for _, j := range b.jobs {
		if j.State != Queued {
			continue
		}
		j.State, j.Worker, j.LeaseToken = Leased, worker, newToken()
		j.Leases++
		j.LeaseExpires = time.Now().Add(b.LeaseTTL)
		j.Events = append(j.Events, "leased to "+worker)
		outURL := b.Server.URL + "/upload/" + strconv.Itoa(j.ID)
		if b.OutputURL != nil {
			outURL = b.OutputURL(j.ID)
		}
		if b.OnLease != nil {
			b.OnLease(j.ID)
		}
		writeReply(w, http.StatusOK, map[string]any{"job": map[string]any{
			"dispatch_id": j.ID, "lease_token": j.LeaseToken, "input_payload": j.Payload,
			"input_url": nil, "output_url": outURL,
			"output_headers": map[string]string{"Content-Type": "image/png", "x-amz-meta-job": strconv.Itoa(j.ID)},
		}}, "")
		return
	}
	writeReply(w, http.StatusOK, map[string]any{"job": nil}, "")
}

func (b *Backend) leaseCallLocked(w http.ResponseWriter, verb, worker string, lb leaseBody) {
	id, err := lb.DispatchID.Int64()
	if err != nil || id < 1 || int(id) > len(b.jobs) {
		writeReply(w, http.StatusNotFound, nil, "unknown dispatch")
		return
	}
	j := b.jobs[id-1]
	if how, ended := j.ended[lb.LeaseToken]; ended && verb == "heartbeat" {
		// A heartbeat after the job's outcome: the worker should have stopped
		// beating when it reported (or gave up) the job.
		b.violations = append(b.violations, fmt.Sprintf("heartbeat for job %d after its lease ended by %s", j.ID, how))
		if b.LenientHeartbeats {
			j.Heartbeats++
			writeReply(w, http.StatusOK, map[string]any{}, "ok")
			return
		}
	}
	if j.State != Leased || j.LeaseToken != lb.LeaseToken || j.Worker != worker {
		if verb == "complete" || verb == "fail" {
			// The worker must never report a job whose lease it lost.
			b.violations = append(b.violations, fmt.Sprintf("%s of job %d by %s without a valid lease", verb, j.ID, worker))
		}
		writeReply(w, http.StatusConflict, nil, "lease is not valid")
		return
	}
	switch verb {
	case "heartbeat":
		j.Heartbeats++
		j.LeaseExpires = time.Now().Add(b.LeaseTTL)
	case "complete":
		if _, ok := b.uploads[j.ID]; !ok {
			b.violations = append(b.violations, fmt.Sprintf("job %d completed before its output was uploaded", j.ID))
		}
		j.State, j.Output = Completed, lb.Output
		j.Completions++
		j.Events = append(j.Events, "completed")
	case "fail":
		j.Attempts++
		j.FailMessage = lb.ErrorMessage
		j.Events = append(j.Events, "failed: "+lb.ErrorMessage)
		if j.Attempts >= 3 {
			j.State = Failed
		} else {
			j.State = Queued
		}
	case "requeue":
		j.State = Queued
		j.Requeues = append(j.Requeues, lb.Reason)
		j.Events = append(j.Events, "requeued: "+lb.Reason)
	}
	if j.State != Leased {
		j.endLease(verb)
		j.LeaseToken, j.Worker = "", ""
	}
	writeReply(w, http.StatusOK, map[string]any{}, "ok")
}

func (b *Backend) serveUpload(w http.ResponseWriter, r *http.Request) {
	id, _ := strconv.Atoi(r.PathValue("id"))
	b.mu.Lock()
	b.putCount++
	n := b.putCount
	fault := b.UploadFault
	b.mu.Unlock()
	if r.ContentLength < 0 {
		http.Error(w, "Content-Length required", http.StatusLengthRequired)
		return
	}
	if fault != nil {
		if status, inject := fault(n); inject {
			_, _ = io.Copy(io.Discard, r.Body)
			http.Error(w, "injected upload fault", status)
			return
		}
	}
	size, err := io.Copy(io.Discard, r.Body)
	if err != nil || size != r.ContentLength {
		http.Error(w, "short body", http.StatusBadRequest)
		return
	}
	b.mu.Lock()
	b.uploads[id] = Upload{Size: size, ContentType: r.Header.Get("Content-Type"), Headers: r.Header.Clone()}
	b.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}

func (b *Backend) serveAsset(w http.ResponseWriter, r *http.Request) {
	b.mu.Lock()
	data, ok := b.assets[r.PathValue("name")]
	b.mu.Unlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	_, _ = w.Write(data)
}

// Forget removes a worker and its tokens, as when the backend prunes a worker
// it has not heard from: its next call gets 401.
func (b *Backend) Forget(workerID string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.workers, workerID)
	for t, w := range b.tokens {
		if w == workerID {
			delete(b.tokens, t)
		}
	}
}

// PreRegister registers a worker out of band (e.g. a previous life of it)
// and returns its token.
func (b *Backend) PreRegister(workerID string) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	tok := newToken()
	b.workers[workerID], b.tokens[tok] = tok, workerID
	return tok
}

// endLease remembers that the current lease token ended, and how.
func (j *JobRecord) endLease(how string) {
	if j.LeaseToken == "" {
		return
	}
	if j.ended == nil {
		j.ended = map[string]string{}
	}
	j.ended[j.LeaseToken] = how
}
