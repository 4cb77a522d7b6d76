// Command protectionrelease is a custom resource placed after each fleet's
// ASG: on stack deletion it runs first and clears scale-in protection, so
// CloudFormation can delete the ASG instead of waiting on protected instances.
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
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
	h := &handler{asg: autoscaling.NewFromConfig(cfg), log: log}
	lambda.Start(cfnresponse.Runner{Handler: h.Handle, Log: log}.Handle)
}
