// Command amirefresh moves a GPU fleet's running instances onto a new AMI.
// The launch template resolves /<app>/ami/fleets/<stage>/<slug> at every
// launch, so new instances already get the new image; this function replaces
// the running ones with an instance refresh that waits for busy (scale-in
// protected) workers and launches each replacement before terminating the
// old instance. It runs on the parameter's "Parameter Store Change" event and
// on a schedule that finishes what an earlier refresh could not.
package main

import (
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/bp/infra/lambdas/internal/boot"
)

func main() {
	log, cfg := boot.AWS()
	env, err := loadEnv(os.Getenv)
	if err != nil {
		boot.Fail(log, "invalid environment", err)
	}
	h := &handler{env: env, asg: autoscaling.NewFromConfig(cfg), ec2: ec2.NewFromConfig(cfg), ssm: ssm.NewFromConfig(cfg), log: log}
	lambda.Start(h.Handle)
}
