// Command infra synthesizes the CDK app: every stage, or the one named by
// -c stage=<name>. Configuration is decoded and validated before any construct
// is built, so bad input never yields a half-built app.
package main

import (
	"fmt"
	"os"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/bp/infra/config"
	"github.com/bp/infra/stacks"
)

func main() {
	defer jsii.Close()
	app := awscdk.NewApp(&awscdk.AppProps{AnalyticsReporting: jsii.Bool(false)})
	ctx, _ := app.Node().GetAllContext(nil).(map[string]interface{})
	stages, err := config.Load(ctx)
	if err != nil {
		fmt.Fprintf(os.Stderr, "invalid configuration (nothing was synthesized):\n%v\n", err)
		os.Exit(1)
	}
	for _, w := range config.Warnings(ctx) {
		fmt.Fprintln(os.Stderr, "warning:", w)
	}
	stacks.Build(app, stages)
	app.Synth(nil)
}
