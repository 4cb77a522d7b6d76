// Package reaper runs every 5 minutes and clears scale-in protection that a
// GPU worker left behind: when a fleet's QueueDepth (queued + leased jobs) has
// been 0 for the whole idle window, no instance can be running a job, so any
// protection in that fleet is stale and would keep a GPU instance alive.
package reaper

import (
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/bp/infra/lambdas/internal/boot"
)

// Handler wires the function from its environment and AWS configuration,
// as lambdas/cmd/reaper hands it to the Lambda runtime; a bad environment ends
// the process with a logged error. It lives here, not in that main package,
// so the tests of this package do not link aws-lambda-go/lambda (whose
// net/rpc mode keeps every exported method of every linked type).
func Handler() any {
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
	return h.Handle
}
