// Command reaper runs every 5 minutes and clears scale-in protection that a
// GPU worker left behind: when a fleet's QueueDepth (queued + leased jobs) has
// been 0 for the whole idle window, no instance can be running a job, so any
// protection in that fleet is stale and would keep a GPU instance alive.
package main

import (
	"context"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/bp/infra/lambdas/internal/logjson"
)

func main() {
	log := logjson.Default()
	env, err := loadEnv(os.Getenv)
	if err != nil {
		log.Error("invalid environment", "error", err.Error())
		os.Exit(1)
	}
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		log.Error("load AWS config", "error", err.Error())
		os.Exit(1)
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
