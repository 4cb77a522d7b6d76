package scaletozero

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/bp/infra/bootcontract"
	"github.com/bp/infra/lambdas/internal/asgops"
)

// autoScalingAPI is the part of the Auto Scaling client this function uses.
type autoScalingAPI interface {
	asgops.Describer
	SetDesiredCapacity(ctx context.Context, in *autoscaling.SetDesiredCapacityInput, optFns ...func(*autoscaling.Options)) (*autoscaling.SetDesiredCapacityOutput, error)
}

type handler struct {
	env environment
	asg autoScalingAPI
	log *slog.Logger
}

// Handle processes every SNS record. Only Auto Scaling API failures are
// returned, so Lambda's async retry repeats just what can succeed later;
// messages that can never be acted on are logged and dropped.
func (h *handler) Handle(ctx context.Context, event events.SNSEvent) error {
	var errs []error
	for _, rec := range event.Records {
		log := h.log.With("snsMessageId", rec.SNS.MessageID, "topicArn", rec.SNS.TopicArn)
		if err := h.handleMessage(ctx, log, rec.SNS.Message); err != nil {
			log.Error("scale to zero failed", "error", err.Error())
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (h *handler) handleMessage(ctx context.Context, log *slog.Logger, message string) error {
	alarm, err := parseAlarm(message)
	if err != nil {
		log.Error("ignoring malformed message", "error", err.Error())
		return nil
	}
	log = log.With("alarmName", alarm.AlarmName, "newState", alarm.NewStateValue)
	if !alarm.isQueueEmptyAlarm() {
		log.Info("ignoring: not an ALARM transition of " + metricNamespace + " " + metricName)
		return nil
	}
	slug, ok := alarm.dimension(bootcontract.DimFleetSlug)
	if !ok {
		log.Warn("ignoring: alarm has no FleetSlug dimension")
		return nil
	}
	log = log.With("fleetSlug", slug)
	if stage, ok := alarm.dimension(bootcontract.DimStage); ok && stage != h.env.Stage {
		log.Warn("ignoring: alarm belongs to another stage", "alarmStage", stage, "stage", h.env.Stage)
		return nil
	}
	asgName, ok := h.env.FleetASGs[slug]
	if !ok {
		log.Warn("ignoring: fleet is not one of this stage's fleets", "stage", h.env.Stage)
		return nil
	}
	return h.scaleToZero(ctx, log.With("asg", asgName), asgName)
}

func (h *handler) scaleToZero(ctx context.Context, log *slog.Logger, asgName string) error {
	group, err := asgops.Describe(ctx, h.asg, asgName)
	if err != nil {
		return err
	}
	if group == nil {
		log.Warn("ignoring: auto scaling group does not exist")
		return nil
	}
	if err := asgops.CheckStage(group, h.env.Stage); err != nil {
		// Configuration error, not transient: retrying cannot help.
		log.Error("refusing to scale", "error", err.Error())
		return nil
	}
	// A warm buffer (a scheduled MinSize) is the floor: Auto Scaling refuses
	// a desired capacity below the group's minimum.
	floor := aws.ToInt32(group.MinSize)
	if aws.ToInt32(group.DesiredCapacity) <= floor {
		if floor == 0 {
			log.Info("already at zero")
		} else {
			log.Info("already at the group's minimum (warm buffer)", "minSize", floor)
		}
		return nil
	}
	_, err = h.asg.SetDesiredCapacity(ctx, &autoscaling.SetDesiredCapacityInput{
		AutoScalingGroupName: aws.String(asgName),
		DesiredCapacity:      aws.Int32(floor),
		HonorCooldown:        aws.Bool(false),
	})
	if err != nil {
		return fmt.Errorf("set desired capacity of %s to %d: %w", asgName, floor, err)
	}
	log.Info("scaled to zero", "previousDesired", aws.ToInt32(group.DesiredCapacity), "minSize", floor)
	return nil
}
