// Package spotfallback runs every minute and moves a GPU fleet to On-Demand,
// within its bound, while Spot launches fail and jobs wait; it moves the fleet
// back when Spot launches succeed again or the queue has emptied. The fleet's
// state lives in a tag on its Auto Scaling group, so the function keeps none.
package spotfallback

import (
	"time"

	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/bp/infra/lambdas/internal/boot"
)

// Handler wires the function from its environment and AWS configuration (a
// bad environment ends the process with a logged error); lambdas/cmd/spotfallback
// starts it (package boot says why the main lives apart).
func Handler() any {
	log, cfg, env := boot.AWSAndEnv(loadEnv)
	h := &handler{
		env:     env,
		asg:     autoscaling.NewFromConfig(cfg),
		metrics: cloudwatch.NewFromConfig(cfg),
		ec2:     ec2.NewFromConfig(cfg),
		alerts:  sns.NewFromConfig(cfg),
		log:     log,
		now:     time.Now,
	}
	return h.Handle
}
