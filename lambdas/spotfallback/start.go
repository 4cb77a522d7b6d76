// Package spotfallback runs every minute and moves a GPU fleet to On-Demand,
// within its bound, while Spot launches fail and jobs wait; it moves the fleet
// back when Spot launches succeed again or the queue has emptied. The fleet's
// state lives in a tag on its Auto Scaling group, so the function keeps none.
package spotfallback

import (
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/bp/infra/lambdas/internal/boot"
)

// Handler wires the function from its environment and AWS configuration,
// as lambdas/cmd/spotfallback hands it to the Lambda runtime; a bad environment ends
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
		asg:     autoscaling.NewFromConfig(cfg),
		metrics: cloudwatch.NewFromConfig(cfg),
		ec2:     ec2.NewFromConfig(cfg),
		alerts:  sns.NewFromConfig(cfg),
		log:     log,
		now:     time.Now,
	}
	return h.Handle
}
