// Command dbinit is a CloudFormation custom resource (Lambda ServiceToken)
// that creates the application databases and user on RDS MariaDB. It is a
// static Go binary so it cannot miss a runtime dependency (review blocker 6).
package main

import (
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/bp/infra/lambdas/internal/boot"
	"github.com/bp/infra/lambdas/internal/cfnresponse"
)

func main() {
	log, cfg := boot.AWS()
	h := newHandler(secretsmanager.NewFromConfig(cfg), log)
	lambda.Start(cfnresponse.Runner{Handler: h.Handle, Log: log}.Handle)
}
