// Command spotfallback is the Lambda entry point of lambdas/spotfallback, which holds the
// function and its documentation.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/bp/infra/lambdas/spotfallback"
)

func main() {
	lambda.Start(spotfallback.Handler())
}
