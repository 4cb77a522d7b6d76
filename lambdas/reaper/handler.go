package reaper

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/bp/infra/lambdas/internal/alert"
	"github.com/bp/infra/lambdas/internal/asgops"
	"github.com/bp/infra/lambdas/internal/queuedepth"
)

// autoScalingAPI is the part of the Auto Scaling client the reaper uses.
type autoScalingAPI interface {
	asgops.Describer
	asgops.Protector
}

type handler struct {
	env     environment
	metrics queuedepth.API
	asg     autoScalingAPI
	alerts  alert.API
	log     *slog.Logger
	now     func() time.Time
}

// Handle checks every fleet. A fleet's failure does not stop the others; all
// failures are returned together so the invocation shows as failed.
func (h *handler) Handle(ctx context.Context, _ events.CloudWatchEvent) error {
	end := h.now().UTC().Truncate(time.Minute)
	var errs []error
	for _, f := range h.env.Fleets {
		log := h.log.With("stage", h.env.Stage, "fleetSlug", f.Slug, "asg", f.ASGName)
		if err := h.reapFleet(ctx, log, f, end); err != nil {
			log.Error("reaper failed for fleet", "error", err.Error())
			errs = append(errs, fmt.Errorf("fleet %s: %w", f.Slug, err))
		}
	}
	return errors.Join(errs...)
}

func (h *handler) reapFleet(ctx context.Context, log *slog.Logger, f fleet, end time.Time) error {
	idle := h.env.idleMinutes(f)
	start := end.Add(-time.Duration(idle) * time.Minute)
	values, err := queueDepthMaxima(ctx, h.metrics, h.env.MetricNamespace, h.env.Stage, f.Slug, start, end)
	if err != nil {
		return err
	}
	v := evaluateWindow(values, idle)
	if !v.Idle {
		log.Info("fleet not idle; leaving protection alone", "reason", v.Reason)
		return nil
	}
	group, err := asgops.Describe(ctx, h.asg, f.ASGName)
	if err != nil {
		return err
	}
	if group == nil {
		log.Warn("auto scaling group does not exist; nothing to reap")
		return nil
	}
	if err := asgops.CheckStage(group, h.env.Stage); err != nil {
		return err
	}
	ids := asgops.ProtectedInstances(group, true)
	if len(ids) == 0 {
		log.Info("fleet idle and no instance protected", "reason", v.Reason)
		return nil
	}
	if err := asgops.ClearProtection(ctx, h.asg, f.ASGName, ids); err != nil {
		return err
	}
	log.Warn("cleared stale scale-in protection", "instanceIds", ids, "reason", v.Reason)
	return publishAlert(ctx, h.alerts, h.env.AlertTopicArn, reaped{
		Stage: h.env.Stage, Fleet: f.Slug, ASG: f.ASGName, InstanceIDs: ids, Rule: v.Reason,
	})
}
