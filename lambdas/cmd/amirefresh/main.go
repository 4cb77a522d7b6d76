// Command amirefresh is the Lambda entry point of lambdas/amirefresh, which holds the
// function and its documentation.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/bp/infra/lambdas/amirefresh"
)

func main() {
	lambda.Start(amirefresh.Handler())
}
