package spotfallback

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/bp/infra/lambdas/internal/alert"
)

// fellBack describes one fallback episode's start.
type fellBack struct {
	Stage, Fleet, ASG  string
	Since              time.Time
	MaxInstances       int
	AfterMinutes       int
	ScaleToZeroMinutes int
	Reason             string // EC2 Auto Scaling's status message of the failed launch
	Missing            int
}

func (f fellBack) subject() string {
	return fmt.Sprintf("[%s] fleet %s: no Spot capacity, On-Demand fallback on", f.Stage, f.Fleet)
}

func (f fellBack) message() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Jobs of fleet %s waited for %d minutes while its Spot launches failed, so up to %d of its instances now launch On-Demand.\n\n",
		f.Fleet, f.AfterMinutes, f.MaxInstances)
	fmt.Fprintf(&b, "Stage: %s\nFleet: %s\nAuto Scaling group: %s\nSince: %s\nOnDemandBaseCapacity: %d\nInstances missing: %d\n",
		f.Stage, f.Fleet, f.ASG, f.Since.UTC().Format(time.RFC3339), f.MaxInstances, f.Missing)
	if f.Reason != "" {
		fmt.Fprintf(&b, "Last failed launch: %s\n", f.Reason)
	}
	fmt.Fprintf(&b, "\nOn-Demand costs about twice Spot. The fallback ends by itself, at least %d minutes after it started, once a Spot launch of the group succeeds, "+
		"the queue has been empty for %d minutes, or the fleet is at zero. This is the episode's only message; the group's tag records its state. "+
		"If Spot stays short, add instance types to the fleet (more Spot pools).\n", f.AfterMinutes, f.ScaleToZeroMinutes)
	return b.String()
}

func publishAlert(ctx context.Context, api alert.API, topicArn string, f fellBack) error {
	return alert.Publish(ctx, api, topicArn, fmt.Sprintf("fallback alert for fleet %s", f.Fleet), f.subject(), f.message())
}
