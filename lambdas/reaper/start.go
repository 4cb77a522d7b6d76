// Package reaper runs every 5 minutes and clears scale-in protection that a
// GPU worker left behind: when a fleet's QueueDepth (queued + leased jobs) has
// been 0 for the whole idle window, no instance can be running a job, so any
// protection in that fleet is stale and would keep a GPU instance alive.
package reaper

import (
	"time"

	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/bp/infra/lambdas/internal/boot"
)

// Handler wires the function from its environment and AWS configuration (a
// bad environment ends the process with a logged error); lambdas/cmd/reaper
// starts it (package boot says why the main lives apart).
func Handler() any {
	log, cfg, env := boot.AWSAndEnv(loadEnv)
	h := &handler{
		env:     env,
		metrics: cloudwatch.NewFromConfig(cfg),
		asg:     autoscaling.NewFromConfig(cfg),
		alerts:  sns.NewFromConfig(cfg),
		log:     log,
		now:     time.Now,
	}
	return h.Handle
}
