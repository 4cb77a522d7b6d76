package spotfallback

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/bp/infra/lambdas/internal/alert"
	"github.com/bp/infra/lambdas/internal/asgops"
	"github.com/bp/infra/lambdas/internal/queuedepth"
)

// autoScalingAPI is the part of the Auto Scaling client the function uses.
type autoScalingAPI interface {
	asgops.Describer
	activitiesAPI
	UpdateAutoScalingGroup(ctx context.Context, in *autoscaling.UpdateAutoScalingGroupInput, optFns ...func(*autoscaling.Options)) (*autoscaling.UpdateAutoScalingGroupOutput, error)
	CreateOrUpdateTags(ctx context.Context, in *autoscaling.CreateOrUpdateTagsInput, optFns ...func(*autoscaling.Options)) (*autoscaling.CreateOrUpdateTagsOutput, error)
}

type handler struct {
	env     environment
	asg     autoScalingAPI
	metrics queuedepth.API
	ec2     instancesAPI
	alerts  alert.API
	log     *slog.Logger
	now     func() time.Time
}

// Handle decides every fleet. A fleet's failure does not stop the others; all
// failures are returned together so the invocation shows as failed.
func (h *handler) Handle(ctx context.Context, _ events.CloudWatchEvent) error {
	now := h.now().UTC()
	var errs []error
	for _, f := range h.env.Fleets {
		log := h.log.With("stage", h.env.Stage, "fleetSlug", f.Slug, "asg", f.ASGName)
		if err := h.decide(ctx, log, f, now); err != nil {
			log.Error("on-demand fallback failed for fleet", "error", err.Error())
			errs = append(errs, fmt.Errorf("fleet %s: %w", f.Slug, err))
		}
	}
	return errors.Join(errs...)
}

// fleetView is what one decision reads about a fleet.
type fleetView struct {
	f     fleet
	group *astypes.AutoScalingGroup
	dist  astypes.InstancesDistribution
	st    state
	queue queue
	now   time.Time
}

func (h *handler) decide(ctx context.Context, log *slog.Logger, f fleet, now time.Time) error {
	g, err := asgops.Describe(ctx, h.asg, f.ASGName)
	if err != nil {
		return err
	}
	if g == nil {
		log.Warn("auto scaling group does not exist; nothing to do")
		return nil
	}
	// Before anything else: a group of another stage is never read further or changed.
	if err := asgops.CheckStage(g, h.env.Stage); err != nil {
		return err
	}
	if g.MixedInstancesPolicy == nil || g.MixedInstancesPolicy.InstancesDistribution == nil {
		return fmt.Errorf("auto scaling group %s has no mixed instances policy: nothing to fall back with", f.ASGName)
	}
	v := fleetView{f: f, group: g, dist: *g.MixedInstancesPolicy.InstancesDistribution, now: now}
	raw, _ := asgops.Tag(g, h.env.StateTag)
	if v.st, err = parseState(raw); err != nil {
		log.Warn("ignoring the fallback tag: treated as never fallen back", "tag", h.env.StateTag, "error", err.Error())
	}
	if v.queue, err = readQueue(ctx, h.metrics, h.env.MetricNamespace, h.env.Stage, f.Slug, now.Truncate(time.Minute), f.window()+1); err != nil {
		return err
	}
	if v.st.Active {
		return h.whileActive(ctx, log, v)
	}
	return h.whileOnSpot(ctx, log, v)
}

func (v fleetView) base() int { return int(aws.ToInt32(v.dist.OnDemandBaseCapacity)) }

func (v fleetView) after() time.Duration { return time.Duration(v.f.AfterMinutes) * time.Minute }

// whileOnSpot restores the template's base if it drifted, then falls back
// when, for afterMinutes, jobs waited, the group lacked instances and its
// newest launch failed for want of Spot capacity; never within afterMinutes
// of the last fallback's end.
func (h *handler) whileOnSpot(ctx context.Context, log *slog.Logger, v fleetView) error {
	if v.base() != v.f.BaseCapacity {
		log.Warn("On-Demand base capacity differs from the template's while not falling back: restoring it",
			"onDemandBaseCapacity", v.base(), "template", v.f.BaseCapacity)
		if err := h.setBase(ctx, v, v.f.BaseCapacity); err != nil {
			return err
		}
	}
	if !v.st.Since.IsZero() && v.now.Sub(v.st.Since) < v.after() {
		log.Info("holding on Spot: the last fallback ended too recently", "endedAt", v.st.Since, "holdMinutes", v.f.AfterMinutes)
		return nil
	}
	if !v.queue.nonEmptyFor(v.f.AfterMinutes) {
		return nil
	}
	missing := capacityMissing(v.group)
	if missing == 0 {
		return nil
	}
	acts, err := activitiesSince(ctx, h.asg, v.f.ASGName, v.now.Add(-v.after()))
	if err != nil {
		return err
	}
	short, why := spotShort(acts)
	if !short {
		return nil
	}
	// The tag first: if a later call fails, the next run sees the fallback
	// and re-asserts it, instead of undoing a raised base.
	st := state{Active: true, Since: v.now, AlertPending: true}
	if err := h.setState(ctx, v, st); err != nil {
		return err
	}
	if err := h.setBase(ctx, v, v.f.MaxInstances); err != nil {
		return err
	}
	log.Warn("no Spot capacity while jobs wait: falling back to On-Demand",
		"onDemandBaseCapacity", v.f.MaxInstances, "missingInstances", missing, "reason", why)
	return h.alertOnce(ctx, v, st, why, missing)
}

// whileActive keeps the fallback's base (a deploy may have written the
// template's back), sends a pending alert, and after afterMinutes ends the
// fallback when Spot delivered again, the queue stayed empty for the
// scale-to-zero window, or the fleet is at zero.
func (h *handler) whileActive(ctx context.Context, log *slog.Logger, v fleetView) error {
	if v.base() != v.f.MaxInstances {
		log.Warn("re-asserting the fallback's On-Demand base capacity", "onDemandBaseCapacity", v.base(), "want", v.f.MaxInstances)
		if err := h.setBase(ctx, v, v.f.MaxInstances); err != nil {
			return err
		}
	}
	if v.st.AlertPending {
		if err := h.alertOnce(ctx, v, v.st, "", capacityMissing(v.group)); err != nil {
			return err
		}
	}
	if v.now.Sub(v.st.Since) < v.after() {
		return nil
	}
	reason, err := h.backOnSpot(ctx, v)
	if err != nil || reason == "" {
		return err
	}
	if err := h.setState(ctx, v, state{Since: v.now}); err != nil {
		return err
	}
	if err := h.setBase(ctx, v, v.f.BaseCapacity); err != nil {
		return err
	}
	log.Warn("fallback over: back on Spot", "reason", reason, "fellBackAt", v.st.Since, "onDemandBaseCapacity", v.f.BaseCapacity)
	return nil
}

// backOnSpot says why the fallback may end, or "".
func (h *handler) backOnSpot(ctx context.Context, v fleetView) (string, error) {
	if aws.ToInt32(v.group.DesiredCapacity) == 0 && len(v.group.Instances) == 0 {
		return "the fleet is at zero: its next start tries Spot first", nil
	}
	if v.queue.emptyFor(v.f.ScaleToZeroMinutes) {
		return fmt.Sprintf("QueueDepth was 0 for the %d-minute scale-to-zero window", v.f.ScaleToZeroMinutes), nil
	}
	acts, err := activitiesSince(ctx, h.asg, v.f.ASGName, v.st.Since)
	if err != nil {
		return "", err
	}
	id, err := spotLaunched(ctx, h.ec2, v.group, acts, v.st.Since)
	if err != nil || id == "" {
		return "", err
	}
	return "Spot instance " + id + " launched after the fallback started", nil
}

// setBase writes OnDemandBaseCapacity, sending the rest of the distribution
// as the group has it so nothing else changes.
func (h *handler) setBase(ctx context.Context, v fleetView, base int) error {
	d := astypes.InstancesDistribution{
		OnDemandAllocationStrategy:          v.dist.OnDemandAllocationStrategy,
		OnDemandBaseCapacity:                aws.Int32(int32(base)),
		OnDemandPercentageAboveBaseCapacity: v.dist.OnDemandPercentageAboveBaseCapacity,
		SpotAllocationStrategy:              v.dist.SpotAllocationStrategy,
		SpotMaxPrice:                        v.dist.SpotMaxPrice,
	}
	if aws.ToString(v.dist.SpotAllocationStrategy) == "lowest-price" {
		d.SpotInstancePools = v.dist.SpotInstancePools // valid only with lowest-price
	}
	_, err := h.asg.UpdateAutoScalingGroup(ctx, &autoscaling.UpdateAutoScalingGroupInput{
		AutoScalingGroupName: aws.String(v.f.ASGName),
		MixedInstancesPolicy: &astypes.MixedInstancesPolicy{InstancesDistribution: &d},
	})
	if err != nil {
		return fmt.Errorf("set OnDemandBaseCapacity of %s to %d: %w", v.f.ASGName, base, err)
	}
	return nil
}

func (h *handler) setState(ctx context.Context, v fleetView, st state) error {
	_, err := h.asg.CreateOrUpdateTags(ctx, &autoscaling.CreateOrUpdateTagsInput{Tags: []astypes.Tag{{
		Key: aws.String(h.env.StateTag), Value: aws.String(st.String()), ResourceId: aws.String(v.f.ASGName),
		ResourceType: aws.String("auto-scaling-group"), PropagateAtLaunch: aws.Bool(false),
	}}})
	if err != nil {
		return fmt.Errorf("tag %s with %s=%q: %w", v.f.ASGName, h.env.StateTag, st.String(), err)
	}
	return nil
}

// alertOnce publishes the episode's one alert, then clears alert-pending. A
// failed publish leaves it pending, so the next run sends it.
func (h *handler) alertOnce(ctx context.Context, v fleetView, st state, why string, missing int) error {
	if err := publishAlert(ctx, h.alerts, h.env.AlertTopicArn, fellBack{
		Stage: h.env.Stage, Fleet: v.f.Slug, ASG: v.f.ASGName, Since: st.Since, MaxInstances: v.f.MaxInstances,
		AfterMinutes: v.f.AfterMinutes, ScaleToZeroMinutes: v.f.ScaleToZeroMinutes, Reason: why, Missing: missing,
	}); err != nil {
		return err
	}
	st.AlertPending = false
	return h.setState(ctx, v, st)
}
