// Command reaper runs every 5 minutes and clears scale-in protection that a
// GPU worker left behind: when a fleet's QueueDepth (queued + leased jobs) has
// been 0 for the whole idle window, no instance can be running a job, so any
// protection in that fleet is stale and would keep a GPU instance alive.
package main

import (
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/bp/infra/lambdas/internal/boot"
)

func main() {
	log, cfg := boot.AWS()
	env, err := loadEnv(os.Getenv)
	if err != nil {
		boot.Fail(log, "invalid environment", err)
	}
	h := &handler{
		env:     env,
		metrics: cloudwatch.NewFromConfig(cfg),
		asg:     autoscaling.NewFromConfig(cfg),
		alerts:  sns.NewFromConfig(cfg),
		log:     log,
		now:     time.Now,
	}
	lambda.Start(h.Handle)
}
