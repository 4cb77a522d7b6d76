// Command protectionrelease is the Lambda entry point of lambdas/protectionrelease, which holds the
// function and its documentation.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/bp/infra/lambdas/protectionrelease"
)

func main() {
	lambda.Start(protectionrelease.Handler())
}
