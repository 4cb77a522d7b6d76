package backend

import "encoding/json"

// RegisterRequest is the body of POST /api/worker/register.
type RegisterRequest struct {
	WorkerID       string   `json:"worker_id"`
	DisplayName    string   `json:"display_name"`
	Capabilities   []string `json:"capabilities"`
	MaxConcurrency int      `json:"max_concurrency"`
	FleetSlug      string   `json:"fleet_slug"`
	Stage          string   `json:"stage"`
}

// Registration is data of a successful register reply.
type Registration struct {
	WorkerID string `json:"worker_id"`
	Token    string `json:"token"`
}

// PollRequest is the body of POST /api/worker/poll.
type PollRequest struct {
	WorkerID       string   `json:"worker_id"`
	CurrentLoad    int      `json:"current_load"`
	MaxConcurrency int      `json:"max_concurrency"`
	Capabilities   []string `json:"capabilities"`
}

// Job is a leased job (data.job of a poll reply).
type Job struct {
	DispatchID    DispatchID        `json:"dispatch_id"`
	LeaseToken    string            `json:"lease_token"`
	InputPayload  json.RawMessage   `json:"input_payload"`
	InputURL      string            `json:"input_url"`
	OutputURL     string            `json:"output_url"`
	OutputHeaders map[string]string `json:"output_headers"`
}

// Lease identifies a job lease in every call about that job.
type Lease struct {
	DispatchID DispatchID `json:"dispatch_id"`
	LeaseToken string     `json:"lease_token"`
	WorkerID   string     `json:"worker_id"`
}

// Lease returns the lease part of a job for the given worker.
func (j *Job) Lease(workerID string) Lease {
	return Lease{DispatchID: j.DispatchID, LeaseToken: j.LeaseToken, WorkerID: workerID}
}

// Output describes the uploaded result in a complete call.
type Output struct {
	Size     int64  `json:"size"`
	MimeType string `json:"mime_type"`
}

type completeRequest struct {
	Lease
	ProviderJobID string `json:"provider_job_id"`
	Output        Output `json:"output"`
}

type failRequest struct {
	Lease
	ErrorMessage string `json:"error_message"`
}

type requeueRequest struct {
	Lease
	Reason string `json:"reason"`
}

type envelope struct {
	Success bool            `json:"success"`
	Data    json.RawMessage `json:"data"`
	Message string          `json:"message"`
}

type pollData struct {
	Job *Job `json:"job"`
}
