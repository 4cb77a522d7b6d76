// Command dbinit is the Lambda entry point of lambdas/dbinit, which holds the
// function and its documentation.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/bp/infra/lambdas/dbinit"
)

func main() {
	lambda.Start(dbinit.Handler())
}
