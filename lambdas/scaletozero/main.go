// Command scaletozero reads the stage's "<app>-<stage>-scale-to-zero" SNS
// topic, where each fleet's queue-empty CloudWatch alarm notifies, and sets
// that fleet's Auto Scaling group to zero (review blocker 8).
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
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
	h := &handler{env: env, asg: autoscaling.NewFromConfig(cfg), log: log}
	lambda.Start(h.Handle)
}
