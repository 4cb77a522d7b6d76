// Package amirefresh moves a GPU fleet's running instances onto a new AMI.
// The launch template resolves /<app>/ami/fleets/<stage>/<slug> at every
// launch, so new instances already get the new image; this function replaces
// the running ones with an instance refresh that waits for busy (scale-in
// protected) workers and launches each replacement before terminating the
// old instance. It runs on the parameter's "Parameter Store Change" event and
// on a schedule that finishes what an earlier refresh could not.
package amirefresh

import (
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/bp/infra/lambdas/internal/boot"
)

// Handler wires the function from its environment and AWS configuration (a
// bad environment ends the process with a logged error); lambdas/cmd/amirefresh
// starts it (package boot says why the main lives apart).
func Handler() any {
	log, cfg, env := boot.AWSAndEnv(loadEnv)
	h := &handler{env: env, asg: autoscaling.NewFromConfig(cfg), ec2: ec2.NewFromConfig(cfg), ssm: ssm.NewFromConfig(cfg), log: log}
	return h.Handle
}
