package cfnresponse

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
)

// Result is what a resource handler returns.
type Result struct {
	// PhysicalResourceID identifies the resource. Leave it empty to keep the
	// one CloudFormation sent (Update/Delete). A different value on Update
	// makes CloudFormation replace the resource, so keep it stable.
	PhysicalResourceID string
	// Data is exposed through Fn::GetAtt. Values must never be secrets:
	// NoEcho is always false.
	Data map[string]any
}

// HandlerFunc does the resource's work. It should return its stable
// PhysicalResourceID even with an error, so a failed Create keeps a sane id.
type HandlerFunc func(ctx context.Context, req Request) (Result, error)

// Runner runs a HandlerFunc under the protocol.
type Runner struct {
	Handler HandlerFunc
	Sender  Sender
	Log     *slog.Logger
	// SafetyMargin is kept back from the Lambda deadline to send the
	// response; default 15s (the PUT retries need it).
	SafetyMargin time.Duration
	// DefaultTimeout bounds the handler when ctx has no deadline (tests).
	DefaultTimeout time.Duration
}

// Handle is the Lambda entry point: lambda.Start(runner.Handle). It returns an
// error only when the response could not be delivered, which makes Lambda
// retry the whole event (the handlers are idempotent).
func (r Runner) Handle(ctx context.Context, req Request) error {
	log := r.logger().With("requestType", req.RequestType, "logicalResourceId", req.LogicalResourceID,
		"physicalResourceId", req.PhysicalResourceID, "stackId", req.StackID, "requestId", req.RequestID)

	resp := Response{
		StackID:            req.StackID,
		RequestID:          req.RequestID,
		LogicalResourceID:  req.LogicalResourceID,
		PhysicalResourceID: req.PhysicalResourceID,
	}
	if req.ResponseURL == "" {
		log.Error("custom resource request has no ResponseURL; cannot answer CloudFormation")
		return errors.New("custom resource request has no ResponseURL")
	}

	var res Result
	err := req.Validate()
	if err == nil {
		res, err = r.runWithDeadline(ctx, req)
	}
	if res.PhysicalResourceID != "" {
		resp.PhysicalResourceID = res.PhysicalResourceID
	}
	if resp.PhysicalResourceID == "" {
		resp.PhysicalResourceID = fallbackPhysicalID(req)
	}
	if err != nil {
		resp.Status = StatusFailed
		resp.Reason = err.Error() + logHint()
		log.Error("custom resource failed", "error", err.Error())
	} else {
		resp.Status = StatusSuccess
		resp.Data = res.Data
		log.Info("custom resource succeeded", "physicalResourceIdOut", resp.PhysicalResourceID)
	}

	body, err := resp.Marshal()
	if err != nil {
		return err
	}
	// The handler's context may already be cancelled; the PUT gets the time
	// that is really left.
	sendCtx, cancel := r.sendContext(ctx)
	defer cancel()
	if err := r.Sender.Send(sendCtx, req.ResponseURL, body); err != nil {
		log.Error("could not deliver custom resource response", "error", err.Error())
		return err
	}
	log.Info("custom resource response delivered", "status", resp.Status)
	return nil
}

func (r Runner) runWithDeadline(ctx context.Context, req Request) (Result, error) {
	hctx, cancel := context.WithDeadline(ctx, r.handlerDeadline(ctx))
	defer cancel()

	type outcome struct {
		res Result
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				r.logger().Error("custom resource handler panicked", "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
				done <- outcome{err: fmt.Errorf("handler panic: %v", p)}
			}
		}()
		res, err := r.Handler(hctx, req)
		done <- outcome{res, err}
	}()
	select {
	case o := <-done:
		return o.res, o.err
	case <-hctx.Done():
		// The handler ignored its context; answer anyway so the stack does
		// not wait an hour.
		return Result{}, fmt.Errorf("%s timed out before the Lambda deadline: %w", req.RequestType, hctx.Err())
	}
}

func (r Runner) handlerDeadline(ctx context.Context) time.Time {
	margin := r.SafetyMargin
	if margin <= 0 {
		margin = 15 * time.Second
	}
	dl, ok := ctx.Deadline()
	if !ok {
		t := r.DefaultTimeout
		if t <= 0 {
			t = 5 * time.Minute
		}
		return time.Now().Add(t)
	}
	remaining := time.Until(dl)
	if remaining < 2*margin {
		// Very short Lambda timeouts: keep half the time for the response.
		margin = remaining / 2
	}
	return dl.Add(-margin)
}

func (r Runner) sendContext(ctx context.Context) (context.Context, context.CancelFunc) {
	base := context.WithoutCancel(ctx)
	if dl, ok := ctx.Deadline(); ok {
		return context.WithDeadline(base, dl)
	}
	return context.WithTimeout(base, 2*time.Minute)
}

func (r Runner) logger() *slog.Logger {
	if r.Log != nil {
		return r.Log
	}
	return slog.Default()
}

func fallbackPhysicalID(req Request) string {
	if lambdacontext.LogStreamName != "" {
		return lambdacontext.LogStreamName
	}
	return req.LogicalResourceID + "-" + req.RequestID
}

func logHint() string {
	if lambdacontext.LogStreamName == "" {
		return ""
	}
	return " (CloudWatch log stream " + lambdacontext.LogStreamName + ")"
}
