package amirefresh

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/smithy-go"
	"github.com/bp/infra/lambdas/internal/asgops"
)

type autoScalingAPI interface {
	asgops.Describer
	DescribeInstanceRefreshes(ctx context.Context, in *autoscaling.DescribeInstanceRefreshesInput, optFns ...func(*autoscaling.Options)) (*autoscaling.DescribeInstanceRefreshesOutput, error)
	StartInstanceRefresh(ctx context.Context, in *autoscaling.StartInstanceRefreshInput, optFns ...func(*autoscaling.Options)) (*autoscaling.StartInstanceRefreshOutput, error)
}

type instancesAPI interface {
	DescribeInstances(ctx context.Context, in *ec2.DescribeInstancesInput, optFns ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error)
}

type parameterAPI interface {
	GetParameter(ctx context.Context, in *ssm.GetParameterInput, optFns ...func(*ssm.Options)) (*ssm.GetParameterOutput, error)
}

type handler struct {
	env environment
	asg autoScalingAPI
	ec2 instancesAPI
	ssm parameterAPI
	log *slog.Logger
}

// refreshPreferences never take capacity from a running job:
//   - ScaleInProtectedInstances Wait: a worker protects itself while it holds
//     a job, so the refresh replaces it only once it is idle (AWS waits up to an
//     hour, then fails the refresh; the schedule starts another for the rest);
//   - MinHealthyPercentage 100 with MaxHealthyPercentage 200: each replacement
//     is launched and warmed up before the old instance goes, so serving
//     capacity never drops below what it was (also with one instance);
//   - SkipMatching false: the launch template's ImageId is resolve:ssm:, so
//     its version does not change with the AMI and every instance would
//     "match"; the function instead starts a refresh only when an instance
//     runs another image than the parameter names;
//   - StandbyInstances Ignore: an instance an operator put on standby stays;
//   - AutoRollback false: AWS supports no rollback for a launch template whose
//     ImageId is an SSM parameter.
func refreshPreferences() *astypes.RefreshPreferences {
	return &astypes.RefreshPreferences{
		MinHealthyPercentage:      aws.Int32(100),
		MaxHealthyPercentage:      aws.Int32(200),
		SkipMatching:              aws.Bool(false),
		ScaleInProtectedInstances: astypes.ScaleInProtectedInstancesWait,
		StandbyInstances:          astypes.StandbyInstancesIgnore,
		AutoRollback:              aws.Bool(false),
	}
}

// Handle refreshes the fleets of a changed AMI parameter, or every fleet on
// the schedule. A fleet's failure does not stop the others.
func (h *handler) Handle(ctx context.Context, raw json.RawMessage) error {
	tr, err := parseEvent(raw)
	if err != nil {
		h.log.Error("ignoring event", "error", err.Error())
		return nil // retrying cannot make it readable
	}
	if tr.Skip != "" {
		h.log.Info("ignoring parameter event", "parameter", tr.Parameter, "reason", tr.Skip)
		return nil
	}
	var errs []error
	matched := false
	for _, f := range h.env.Fleets {
		if tr.Parameter != "" && f.AmiParameter != tr.Parameter {
			continue
		}
		matched = true
		log := h.log.With("stage", h.env.Stage, "fleetSlug", f.Slug, "asg", f.ASGName, "amiParameter", f.AmiParameter)
		if err := h.refreshFleet(ctx, log, f); err != nil {
			log.Error("AMI refresh failed for fleet", "error", err.Error())
			errs = append(errs, fmt.Errorf("fleet %s: %w", f.Slug, err))
		}
	}
	if !matched {
		h.log.Warn("parameter is not the AMI parameter of a fleet of this stage", "parameter", tr.Parameter, "stage", h.env.Stage)
	}
	return errors.Join(errs...)
}

func (h *handler) refreshFleet(ctx context.Context, log *slog.Logger, f fleet) error {
	g, err := asgops.Describe(ctx, h.asg, f.ASGName)
	if err != nil {
		return err
	}
	if g == nil {
		log.Warn("auto scaling group does not exist; nothing to refresh")
		return nil
	}
	if err := asgops.CheckStage(g, h.env.Stage); err != nil {
		return err
	}
	live := liveInstances(g)
	if len(live) == 0 {
		log.Info("no instance running: the next launch uses the parameter's image")
		return nil
	}
	p, err := h.ssm.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(f.AmiParameter)})
	if err != nil {
		return fmt.Errorf("read %s: %w", f.AmiParameter, err)
	}
	want := aws.ToString(p.Parameter.Value)
	stale, err := h.staleInstances(ctx, live, want)
	if err != nil || len(stale) == 0 {
		if err == nil {
			log.Info("every running instance runs the parameter's image", "imageId", want, "instances", len(live))
		}
		return err
	}
	if active, err := h.activeRefresh(ctx, f.ASGName); err != nil || active != "" {
		if active != "" {
			// It launches from the parameter as it is now; what it leaves
			// behind the next scheduled run picks up.
			log.Info("an instance refresh is in progress; leaving it to finish", "instanceRefreshId", active, "staleInstances", stale)
		}
		return err
	}
	out, err := h.asg.StartInstanceRefresh(ctx, &autoscaling.StartInstanceRefreshInput{
		AutoScalingGroupName: aws.String(f.ASGName),
		Strategy:             astypes.RefreshStrategyRolling,
		Preferences:          refreshPreferences(),
	})
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) && apiErr.ErrorCode() == "InstanceRefreshInProgress" {
		log.Info("an instance refresh started meanwhile; leaving it to finish")
		return nil
	}
	if err != nil {
		return fmt.Errorf("start instance refresh of %s: %w", f.ASGName, err)
	}
	log.Warn("started an instance refresh onto the new image", "imageId", want, "staleInstances", stale,
		"instanceRefreshId", aws.ToString(out.InstanceRefreshId))
	return nil
}

// liveInstances are the group's pending and in-service instances.
func liveInstances(g *astypes.AutoScalingGroup) []string {
	var ids []string
	for _, in := range g.Instances {
		s := string(in.LifecycleState)
		if strings.HasPrefix(s, "Pending") || in.LifecycleState == astypes.LifecycleStateInService {
			ids = append(ids, aws.ToString(in.InstanceId))
		}
	}
	return ids
}

// staleInstances are the ids whose image is not want.
func (h *handler) staleInstances(ctx context.Context, ids []string, want string) ([]string, error) {
	out, err := h.ec2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: ids})
	if err != nil {
		return nil, fmt.Errorf("describe instances %v: %w", ids, err)
	}
	var stale []string
	for _, r := range out.Reservations {
		for _, in := range r.Instances {
			if aws.ToString(in.ImageId) != want {
				stale = append(stale, aws.ToString(in.InstanceId))
			}
		}
	}
	return stale, nil
}

// activeRefresh is the id of the group's refresh that still runs, or "".
func (h *handler) activeRefresh(ctx context.Context, asg string) (string, error) {
	out, err := h.asg.DescribeInstanceRefreshes(ctx, &autoscaling.DescribeInstanceRefreshesInput{AutoScalingGroupName: aws.String(asg)})
	if err != nil {
		return "", fmt.Errorf("describe instance refreshes of %s: %w", asg, err)
	}
	for _, r := range out.InstanceRefreshes {
		switch r.Status {
		case astypes.InstanceRefreshStatusPending, astypes.InstanceRefreshStatusInProgress, astypes.InstanceRefreshStatusCancelling,
			astypes.InstanceRefreshStatusRollbackInProgress, astypes.InstanceRefreshStatusBaking:
			return aws.ToString(r.InstanceRefreshId), nil
		}
	}
	return "", nil
}
