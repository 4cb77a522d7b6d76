package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
)

// alertAPI is the part of the SNS client the reaper uses.
type alertAPI interface {
	Publish(ctx context.Context, in *sns.PublishInput, optFns ...func(*sns.Options)) (*sns.PublishOutput, error)
}

// reaped describes one fleet whose stale protection was cleared.
type reaped struct {
	Stage, Fleet, ASG string
	InstanceIDs       []string
	Rule              string
}

func (r reaped) subject() string {
	s := fmt.Sprintf("[%s] reaper cleared stale scale-in protection in fleet %s", r.Stage, r.Fleet)
	if len(s) > 100 { // SNS subject limit
		s = s[:100]
	}
	return s
}

func (r reaped) message() string {
	var b strings.Builder
	fmt.Fprintf(&b, "The reaper cleared scale-in protection of %d instance(s).\n\n", len(r.InstanceIDs))
	fmt.Fprintf(&b, "Stage: %s\nFleet: %s\nAuto Scaling group: %s\nInstances: %s\n\n", r.Stage, r.Fleet, r.ASG, strings.Join(r.InstanceIDs, ", "))
	fmt.Fprintf(&b, "Rule: %s. QueueDepth counts queued and leased jobs, so no instance of the fleet was running a job and the protection was stale (a worker did not clear it). ", r.Rule)
	b.WriteString("The Auto Scaling group can now scale these instances in. Check the worker logs of these instances for why protection was left on.\n")
	return b.String()
}

func publishAlert(ctx context.Context, api alertAPI, topicArn string, r reaped) error {
	_, err := api.Publish(ctx, &sns.PublishInput{
		TopicArn: aws.String(topicArn),
		Subject:  aws.String(r.subject()),
		Message:  aws.String(r.message()),
	})
	if err != nil {
		return fmt.Errorf("publish reaper alert for fleet %s to %s: %w", r.Fleet, topicArn, err)
	}
	return nil
}
