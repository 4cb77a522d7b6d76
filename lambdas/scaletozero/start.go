// Package scaletozero reads the stage's "<app>-<stage>-scale-to-zero" SNS
// topic, where each fleet's queue-empty CloudWatch alarm notifies, and sets
// that fleet's Auto Scaling group to zero (review blocker 8).
package scaletozero

import (
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/bp/infra/lambdas/internal/boot"
)

// Handler wires the function from its environment and AWS configuration (a
// bad environment ends the process with a logged error); lambdas/cmd/scaletozero
// starts it (package boot says why the main lives apart).
func Handler() any {
	log, cfg, env := boot.AWSAndEnv(loadEnv)
	h := &handler{env: env, asg: autoscaling.NewFromConfig(cfg), log: log}
	return h.Handle
}
