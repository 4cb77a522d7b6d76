// Command protectionrelease is a custom resource placed after each fleet's
// ASG: on stack deletion it runs first and clears scale-in protection, so
// CloudFormation can delete the ASG instead of waiting on protected instances.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/bp/infra/lambdas/internal/boot"
	"github.com/bp/infra/lambdas/internal/cfnresponse"
)

func main() {
	log, cfg := boot.AWS()
	h := &handler{asg: autoscaling.NewFromConfig(cfg), log: log}
	lambda.Start(cfnresponse.Runner{Handler: h.Handle, Log: log}.Handle)
}
