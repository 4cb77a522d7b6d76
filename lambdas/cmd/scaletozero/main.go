// Command scaletozero is the Lambda entry point of lambdas/scaletozero, which holds the
// function and its documentation.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/bp/infra/lambdas/scaletozero"
)

func main() {
	lambda.Start(scaletozero.Handler())
}
