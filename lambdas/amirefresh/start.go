// Package amirefresh moves a GPU fleet's running instances onto a new AMI.
// The launch template resolves /<app>/ami/fleets/<stage>/<slug> at every
// launch, so new instances already get the new image; this function replaces
// the running ones with an instance refresh that waits for busy (scale-in
// protected) workers and launches each replacement before terminating the
// old instance. It runs on the parameter's "Parameter Store Change" event and
// on a schedule that finishes what an earlier refresh could not.
package amirefresh

import (
	"os"

	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/bp/infra/lambdas/internal/boot"
)

// Handler wires the function from its environment and AWS configuration,
// as lambdas/cmd/amirefresh hands it to the Lambda runtime; a bad environment ends
// the process with a logged error. It lives here, not in that main package,
// so the tests of this package do not link aws-lambda-go/lambda (whose
// net/rpc mode keeps every exported method of every linked type).
func Handler() any {
	log, cfg := boot.AWS()
	env, err := loadEnv(os.Getenv)
	if err != nil {
		boot.Fail(log, "invalid environment", err)
	}
	h := &handler{env: env, asg: autoscaling.NewFromConfig(cfg), ec2: ec2.NewFromConfig(cfg), ssm: ssm.NewFromConfig(cfg), log: log}
	return h.Handle
}
