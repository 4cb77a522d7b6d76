// Command onetopic is the yardstick of scripts/timing.sh: a CDK app with one
// SNS topic, on the aws-cdk-go and jsii versions of this module, so the
// synthesizing app's time can be stated as a multiple of the bare CDK's.
// It has no tests and nothing imports it.
package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/jsii-runtime-go"
)

func main() {
	defer jsii.Close()
	app := awscdk.NewApp(&awscdk.AppProps{AnalyticsReporting: jsii.Bool(false)})
	stack := awscdk.NewStack(app, jsii.String("onetopic"), nil)
	awssns.NewTopic(stack, jsii.String("Topic"), nil)
	app.Synth(nil)
}
