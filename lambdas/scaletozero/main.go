// Command scaletozero reads the stage's "<app>-<stage>-scale-to-zero" SNS
// topic, where each fleet's queue-empty CloudWatch alarm notifies, and sets
// that fleet's Auto Scaling group to zero (review blocker 8).
package main

import (
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/bp/infra/lambdas/internal/boot"
)

func main() {
	log, cfg := boot.AWS()
	env, err := loadEnv(os.Getenv)
	if err != nil {
		boot.Fail(log, "invalid environment", err)
	}
	h := &handler{env: env, asg: autoscaling.NewFromConfig(cfg), log: log}
	lambda.Start(h.Handle)
}
