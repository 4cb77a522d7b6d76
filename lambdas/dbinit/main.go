// Command dbinit is a CloudFormation custom resource (Lambda ServiceToken)
// that creates the application databases and user on RDS MariaDB. It is a
// static Go binary so it cannot miss a runtime dependency (review blocker 6).
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/bp/infra/lambdas/internal/cfnresponse"
	"github.com/bp/infra/lambdas/internal/logjson"
)

func main() {
	log := logjson.Default()
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		log.Error("load AWS config", "error", err.Error())
		os.Exit(1)
	}
	h := newHandler(secretsmanager.NewFromConfig(cfg), log)
	lambda.Start(cfnresponse.Runner{Handler: h.Handle, Log: log}.Handle)
}
