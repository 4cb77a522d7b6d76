package runner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/bp/infra/worker/internal/backend"
	"github.com/bp/infra/worker/internal/comfyui"
	"github.com/bp/infra/worker/internal/retry"
)

// uploadAssets streams each asset from its presigned URL into ComfyUI.
func (r *Runner) uploadAssets(ctx context.Context, assets []Asset) error {
	for _, a := range assets {
		err := retry.Do(ctx, r.transferPolicy("asset download", a.fileName()), func(ctx context.Context) error {
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.URL, nil)
			if err != nil {
				return retry.Permanent(&comfyui.JobError{Msg: "bad asset url for " + a.fileName()})
			}
			resp, err := r.Transfer.Do(req)
			if err != nil {
				return fmt.Errorf("download asset %s: %w", a.fileName(), err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				err := fmt.Errorf("download asset %s: HTTP %d", a.fileName(), resp.StatusCode)
				if resp.StatusCode >= 400 && resp.StatusCode < 500 {
					return retry.Permanent(&comfyui.JobError{Msg: err.Error()})
				}
				return err
			}
			_, err = r.Comfy.UploadImage(ctx, a.fileName(), resp.Body)
			if errors.Is(err, comfyui.ErrUnreachable) {
				return retry.Permanent(err) // ComfyUI's failure: the job is requeued, not retried here
			}
			return err
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// uploadOutput streams the ComfyUI output to output_url. Each try reads /view
// afresh, so a failed PUT is simply repeated; nothing is held in memory.
func (r *Runner) uploadOutput(ctx context.Context, job *backend.Job, f comfyui.File) (backend.Output, error) {
	var out backend.Output
	err := retry.Do(ctx, r.transferPolicy("output upload", f.Filename), func(ctx context.Context) error {
		o, err := r.putOnce(ctx, job, f)
		out = o
		return err
	})
	return out, err
}

func (r *Runner) putOnce(ctx context.Context, job *backend.Job, f comfyui.File) (backend.Output, error) {
	dl, err := r.Comfy.View(ctx, f)
	if errors.Is(err, comfyui.ErrUnreachable) {
		return backend.Output{}, retry.Permanent(err)
	}
	if err != nil {
		return backend.Output{}, err
	}
	defer dl.Body.Close()
	body, size := io.Reader(dl.Body), dl.Size
	if size < 0 {
		// Presigned PUTs need a Content-Length: spool to disk, never to memory.
		tmp, n, err := spool(dl.Body)
		if err != nil {
			return backend.Output{}, err
		}
		defer func() { tmp.Close(); os.Remove(tmp.Name()) }()
		body, size = tmp, n
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, job.OutputURL, io.NopCloser(body))
	if err != nil {
		return backend.Output{}, retry.Permanent(&comfyui.JobError{Msg: "bad output_url: " + err.Error()})
	}
	req.ContentLength = size
	for k, v := range job.OutputHeaders {
		if http.CanonicalHeaderKey(k) == "Host" {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	if req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", dl.MimeType)
	}
	resp, err := r.Transfer.Do(req)
	if err != nil {
		return backend.Output{}, fmt.Errorf("PUT output: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		err := fmt.Errorf("PUT output: HTTP %d", resp.StatusCode)
		if resp.StatusCode >= 400 && resp.StatusCode < 500 && resp.StatusCode != http.StatusRequestTimeout && resp.StatusCode != http.StatusTooManyRequests {
			return backend.Output{}, retry.Permanent(err)
		}
		return backend.Output{}, err
	}
	mt := dl.MimeType
	if h := req.Header.Get("Content-Type"); h != "" {
		mt = h
	}
	return backend.Output{Size: size, MimeType: mt}, nil
}

func spool(r io.Reader) (*os.File, int64, error) {
	tmp, err := os.CreateTemp("", "worker-output-*")
	if err != nil {
		return nil, 0, fmt.Errorf("spool output: %w", err)
	}
	n, err := io.Copy(tmp, r)
	if err == nil {
		_, err = tmp.Seek(0, io.SeekStart)
	}
	if err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return nil, 0, fmt.Errorf("spool output: %w", err)
	}
	return tmp, n, nil
}

func (r *Runner) transferPolicy(what, name string) retry.Policy {
	p := r.Settings.TransferRetry
	p.OnRetry = func(attempt int, err error, wait time.Duration) {
		r.Log.Warn(what+" failed, retrying", "file", name, "attempt", attempt, "wait", wait.String(), "error", err.Error())
	}
	return p
}

var errTimeout = errors.New("job timed out")
