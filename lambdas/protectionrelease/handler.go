package protectionrelease

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/bp/infra/lambdas/internal/asgops"
	"github.com/bp/infra/lambdas/internal/cfnresponse"
)

// autoScalingAPI is the part of the Auto Scaling client this function uses.
type autoScalingAPI interface {
	asgops.Describer
	asgops.Protector
}

type handler struct {
	asg autoScalingAPI
	log *slog.Logger
}

// physicalID depends only on the logical id, never on AsgNames: a new id on
// Update would make CloudFormation "replace" the resource and send a Delete
// for the old one, stripping protection from busy workers of live fleets.
func physicalID(req cfnresponse.Request) string {
	if req.PhysicalResourceID != "" && req.RequestType != cfnresponse.RequestCreate {
		return req.PhysicalResourceID
	}
	return "protection-release-" + req.LogicalResourceID
}

// Handle runs one custom resource request.
func (h *handler) Handle(ctx context.Context, req cfnresponse.Request) (cfnresponse.Result, error) {
	res := cfnresponse.Result{PhysicalResourceID: physicalID(req)}
	names, err := cfnresponse.Props(req.ResourceProperties).StringList("AsgNames")
	if err != nil {
		return res, err
	}
	if req.RequestType != cfnresponse.RequestDelete {
		if len(names) == 0 {
			return res, fmt.Errorf("property AsgNames: at least one Auto Scaling group name is required")
		}
		return res, nil
	}
	for _, name := range names {
		if err := h.release(ctx, name); err != nil {
			return res, err
		}
	}
	return res, nil
}

// release clears protection on every instance of the group. If an instance
// leaves the group between describe and update, the call fails; one re-read
// and retry covers that race.
func (h *handler) release(ctx context.Context, name string) error {
	log := h.log.With("asg", name)
	var lastErr error
	for attempt := 1; attempt <= 2; attempt++ {
		group, err := asgops.Describe(ctx, h.asg, name)
		if err != nil {
			return err
		}
		if group == nil {
			log.Info("auto scaling group already gone")
			return nil
		}
		ids := asgops.ProtectedInstances(group, false)
		if len(ids) == 0 {
			log.Info("no protected instances")
			return nil
		}
		if lastErr = asgops.ClearProtection(ctx, h.asg, name, ids); lastErr == nil {
			log.Info("cleared scale-in protection before deletion", "instanceIds", ids)
			return nil
		}
		log.Warn("clearing protection failed; re-reading the group", "attempt", attempt, "error", lastErr.Error())
	}
	return lastErr
}
