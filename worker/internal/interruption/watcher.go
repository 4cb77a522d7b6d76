// Package interruption watches the instance metadata service (IMDSv2) for
// signs that this instance is about to go away: a Spot interruption notice, a
// rebalance recommendation, or the Auto Scaling group terminating it.
package interruption

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
)

// Reasons sent to the backend's requeue.
const (
	// ReasonSpot: spot/instance-action, the 2-minute interruption notice.
	ReasonSpot = "spot_interruption"
	// ReasonRebalance: events/recommendations/rebalance, the instance is at
	// elevated risk of interruption but not interrupted. The runner drains on
	// it instead of stopping, and requeues with it only a job that outlives
	// the drain.
	ReasonRebalance = "rebalance"
	// ReasonScaleIn: autoscaling/target-lifecycle-state is Terminated.
	ReasonScaleIn = "scale_in"
	// ReasonShutdown: SIGTERM or SIGINT.
	ReasonShutdown = "shutdown"
)

// Notice says why the worker must stop.
type Notice struct {
	Reason string
	Detail string
}

// MetadataAPI is the IMDS call the watcher needs.
type MetadataAPI interface {
	GetMetadata(ctx context.Context, in *imds.GetMetadataInput, opts ...func(*imds.Options)) (*imds.GetMetadataOutput, error)
}

// Watcher polls IMDS every Interval.
type Watcher struct {
	IMDS     MetadataAPI
	Interval time.Duration // 5 s in production
	Log      *slog.Logger
}

type check struct {
	path   string
	reason string
	// notice decides from the document whether it is a notice.
	notice func(body string) bool
}

var checks = []check{
	{"spot/instance-action", ReasonSpot, func(string) bool { return true }},
	{"autoscaling/target-lifecycle-state", ReasonScaleIn, func(b string) bool {
		return strings.TrimSpace(b) == "Terminated"
	}},
	{"events/recommendations/rebalance", ReasonRebalance, func(string) bool { return true }},
}

// Watch returns the first notice accept takes (nil: any), or ctx's error
// when ctx ends first.
func (w *Watcher) Watch(ctx context.Context, accept func(Notice) bool) (Notice, error) {
	t := time.NewTicker(w.Interval)
	defer t.Stop()
	for {
		if n, ok := w.CheckOnce(ctx); ok && (accept == nil || accept(n)) {
			return n, nil
		}
		select {
		case <-ctx.Done():
			return Notice{}, ctx.Err()
		case <-t.C:
		}
	}
}

// CheckOnce reads each metadata path once; a 404 means "no notice". The
// paths are read in order of urgency (interruption notice, scale-in, then the
// rebalance recommendation), and the first notice found is returned, so a
// rebalance recommendation never hides an interruption notice.
func (w *Watcher) CheckOnce(ctx context.Context) (Notice, bool) {
	for _, c := range checks {
		body, found, err := w.get(ctx, c.path)
		if err != nil {
			if ctx.Err() == nil {
				w.Log.Warn("instance metadata read failed", "path", c.path, "error", err.Error())
			}
			continue
		}
		if found && c.notice(body) {
			return Notice{Reason: c.reason, Detail: strings.TrimSpace(body)}, true
		}
	}
	return Notice{}, false
}

func (w *Watcher) get(ctx context.Context, path string) (string, bool, error) {
	out, err := w.IMDS.GetMetadata(ctx, &imds.GetMetadataInput{Path: path})
	if err != nil {
		var status interface{ HTTPStatusCode() int }
		if errors.As(err, &status) && status.HTTPStatusCode() == http.StatusNotFound {
			return "", false, nil
		}
		return "", false, fmt.Errorf("imds %s: %w", path, err)
	}
	defer out.Content.Close()
	b, err := io.ReadAll(io.LimitReader(out.Content, 64<<10))
	if err != nil {
		return "", false, fmt.Errorf("imds %s: read: %w", path, err)
	}
	return string(b), true, nil
}

// InstanceID reads this instance's id from IMDS.
func InstanceID(ctx context.Context, api MetadataAPI) (string, error) {
	out, err := api.GetMetadata(ctx, &imds.GetMetadataInput{Path: "instance-id"})
	if err != nil {
		return "", fmt.Errorf("imds instance-id: %w", err)
	}
	defer out.Content.Close()
	b, err := io.ReadAll(io.LimitReader(out.Content, 1024))
	if err != nil {
		return "", fmt.Errorf("imds instance-id: read: %w", err)
	}
	id := strings.TrimSpace(string(b))
	if id == "" {
		return "", errors.New("imds instance-id: empty")
	}
	return id, nil
}
