// Package scaletozero reads the stage's "<app>-<stage>-scale-to-zero" SNS
// topic, where each fleet's queue-empty CloudWatch alarm notifies, and sets
// that fleet's Auto Scaling group to zero (review blocker 8).
package scaletozero

import (
	"os"

	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/bp/infra/lambdas/internal/boot"
)

// Handler wires the function from its environment and AWS configuration,
// as lambdas/cmd/scaletozero hands it to the Lambda runtime; a bad environment ends
// the process with a logged error. It lives here, not in that main package,
// so the tests of this package do not link aws-lambda-go/lambda (whose
// net/rpc mode keeps every exported method of every linked type).
func Handler() any {
	log, cfg := boot.AWS()
	env, err := loadEnv(os.Getenv)
	if err != nil {
		boot.Fail(log, "invalid environment", err)
	}
	h := &handler{env: env, asg: autoscaling.NewFromConfig(cfg), log: log}
	return h.Handle
}
