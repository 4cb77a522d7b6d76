package reaper

import (
	"context"
	"fmt"
	"strings"

	"github.com/bp/infra/lambdas/internal/alert"
)

// reaped describes one fleet whose stale protection was cleared.
type reaped struct {
	Stage, Fleet, ASG string
	InstanceIDs       []string
	Rule              string
}

func (r reaped) subject() string {
	return fmt.Sprintf("[%s] reaper cleared stale scale-in protection in fleet %s", r.Stage, r.Fleet)
}

func (r reaped) message() string {
	var b strings.Builder
	fmt.Fprintf(&b, "The reaper cleared scale-in protection of %d instance(s).\n\n", len(r.InstanceIDs))
	fmt.Fprintf(&b, "Stage: %s\nFleet: %s\nAuto Scaling group: %s\nInstances: %s\n\n", r.Stage, r.Fleet, r.ASG, strings.Join(r.InstanceIDs, ", "))
	fmt.Fprintf(&b, "Rule: %s. QueueDepth counts queued and leased jobs, so no instance of the fleet was running a job and the protection was stale (a worker did not clear it). ", r.Rule)
	b.WriteString("The Auto Scaling group can now scale these instances in. Check the worker logs of these instances for why protection was left on.\n")
	return b.String()
}

func publishAlert(ctx context.Context, api alert.API, topicArn string, r reaped) error {
	return alert.Publish(ctx, api, topicArn, fmt.Sprintf("reaper alert for fleet %s", r.Fleet), r.subject(), r.message())
}
