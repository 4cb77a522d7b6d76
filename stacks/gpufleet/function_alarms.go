package gpufleet

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/jsii-runtime-go"

	"github.com/bp/infra/constructs/alarms"
	"github.com/bp/infra/constructs/gofunction"
)

// watchedFunction is a fleet Lambda with its error alarm's id and runbook.
type watchedFunction struct {
	alarmID, runbook string
	fn               gofunction.Function // zero when the stage does not build it
}

// addFunctionAlarms pages on any error of the fleet Lambdas, each alarm
// beside its function on the function's own Errors metric: when the
// scale-to-zero path fails, instances stay up and the stuck alarm is the next
// thing to fire; when the capacity functions fail, jobs wait on Spot or
// instances stay on an old AMI. It returns the alarm names for the dashboard.
func addFunctionAlarms(stack awscdk.Stack, p Props, fns []watchedFunction) []string {
	notify := alarms.Notifier{Topic: p.Net.AlertsTopic}
	var names []string
	for _, w := range fns {
		if w.fn.Function == nil {
			continue
		}
		name := p.Names.Alarm(w.alarmID)
		notify.New(stack, "Alarm-"+w.alarmID, alarms.Spec{
			Name:    name,
			Summary: "Lambda " + *w.fn.Function.FunctionName() + " failed in the last 5 min",
			Runbook: w.runbook,
			Metric: w.fn.Function.MetricErrors(&awscloudwatch.MetricOptions{
				Period: alarms.Minutes(5), Statistic: jsii.String("Sum"),
			}),
			Threshold: 1, Comparison: awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
			Periods: 1, Missing: awscloudwatch.TreatMissingData_NOT_BREACHING,
		})
		names = append(names, name)
	}
	return names
}
