// Command reaper is the Lambda entry point of lambdas/reaper, which holds the
// function and its documentation.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/bp/infra/lambdas/reaper"
)

func main() {
	lambda.Start(reaper.Handler())
}
