package runner

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/bp/infra/worker/internal/backend"
	"github.com/bp/infra/worker/internal/retry"
)

const (
	verbComplete = "complete"
	verbFail     = "fail"
	verbRequeue  = "requeue"
)

// ReasonReportRefused is the requeue reason after complete/fail were refused.
const ReasonReportRefused = "report_refused"

// RefusedTries is how many times a refused report (HTTP 4xx other than 401
// and the lost-lease replies, or success:false) is sent before the worker
// falls back to the next way of reporting the job.
const RefusedTries = 3

// outcome is how a job ended, as the backend must be told.
type outcome struct {
	verb    string // verbComplete, verbFail or verbRequeue
	res     result // complete
	reason  string // requeue
	message string // fail's error_message (requeue: why, for the fallback fail)
}

// reportStep is one way of reporting the job; prev is the refusal of the
// step before it (nil for the first).
type reportStep func(prev error) (verb string, send func(ctx context.Context, tok string) error)

// report tells the backend the outcome and returns whether the job is settled
// (false: the worker is stopping and no report landed; shutdown requeues it).
// A refusal is never the end: complete falls back to fail, fail to requeue,
// requeue to fail, each logged; a lost lease (404/409/410) ends it, since the
// backend took the job back.
func (r *Runner) report(ctx context.Context, log *slog.Logger, job *backend.Job, o outcome) bool {
	rctx, cancel := r.reportContext(ctx)
	defer cancel()
	l := job.Lease(r.Settings.WorkerID)
	complete := func(error) (string, func(context.Context, string) error) {
		return verbComplete, func(ctx context.Context, tok string) error {
			return r.Backend.Complete(ctx, tok, l, o.res.promptID, o.res.output)
		}
	}
	fail := func(msg func(prev error) string) reportStep {
		return func(prev error) (string, func(context.Context, string) error) {
			m := msg(prev)
			return verbFail, func(ctx context.Context, tok string) error { return r.Backend.Fail(ctx, tok, l, m) }
		}
	}
	requeue := func(reason string) reportStep {
		return func(error) (string, func(context.Context, string) error) {
			return verbRequeue, func(ctx context.Context, tok string) error { return r.Backend.Requeue(ctx, tok, l, reason) }
		}
	}
	var steps []reportStep
	switch o.verb {
	case verbComplete:
		steps = []reportStep{complete,
			fail(func(prev error) string { return failMessage(fmt.Errorf("backend refused complete: %w", prev)) }),
			requeue(ReasonReportRefused)}
	case verbFail:
		log.Warn("job failed", "error", o.message)
		steps = []reportStep{fail(func(error) string { return o.message }), requeue(ReasonReportRefused)}
	case verbRequeue:
		log.Warn("ComfyUI could not run the job: requeueing it (no attempt used)", "reason", o.reason, "error", o.message)
		steps = []reportStep{requeue(o.reason),
			fail(func(prev error) string {
				return failMessage(fmt.Errorf("%s; the backend refused requeue: %w", o.message, prev))
			})}
	}

	var prev error
	var refused []string
	for _, step := range steps {
		verb, send := step(prev)
		err := r.deliver(rctx, log, verb, send)
		switch {
		case err == nil:
			r.logReported(log, o, verb, refused)
			return true
		case errors.Is(err, backend.ErrLeaseLost):
			log.Warn("backend says the lease is gone: the job is not reported again", "verb", verb, "error", err.Error())
			return true
		case rctx.Err() != nil:
			if ctx.Err() != nil {
				log.Warn(verb+" did not land before the stop", "error", err.Error())
				return false
			}
			log.Error(verb+" did not land within a lease period: the backend takes the job back when the lease expires", "error", err.Error())
			return true
		}
		log.Error(fmt.Sprintf("backend refused %s %d times", verb, RefusedTries), "error", err.Error())
		prev, refused = err, append(refused, verb)
	}
	log.Error("backend refused every report of the job: it stays leased until the backend's lease expires",
		"refused", refused, "error", prev.Error())
	return true
}

func (r *Runner) logReported(log *slog.Logger, o outcome, verb string, refused []string) {
	switch {
	case len(refused) > 0:
		log.Warn("job reported with "+verb+" after the backend refused "+refused[len(refused)-1], "refused", refused)
	case verb == verbComplete:
		log.Info("job completed", "size", o.res.output.Size, "mime_type", o.res.output.MimeType)
	case verb == verbRequeue:
		log.Info("job requeued", "reason", o.reason)
	}
}

// deliver sends one report. The client retries transient failures (network,
// 429, 5xx) until ctx ends; a refusal is sent again, RefusedTries times in
// all, ErrorBackoff apart; a lost lease or a 401 that registering again did
// not cure comes back at once with the rest.
func (r *Runner) deliver(ctx context.Context, log *slog.Logger, verb string, send func(ctx context.Context, tok string) error) error {
	var err error
	for try := 1; ; try++ {
		err = r.Registrar.WithToken(ctx, func(tok string) error { return send(ctx, tok) })
		if err == nil || errors.Is(err, backend.ErrLeaseLost) || ctx.Err() != nil || try >= RefusedTries {
			return err
		}
		log.Warn("backend refused "+verb+", sending it again", "try", try, "error", err.Error())
		if serr := retry.Sleep(ctx, r.Settings.ErrorBackoff.Delay(try)); serr != nil {
			return err
		}
	}
}
