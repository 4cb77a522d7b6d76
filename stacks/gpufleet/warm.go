package gpufleet

import (
	"github.com/aws/aws-cdk-go/awscdk/v2/awsautoscaling"
	"github.com/aws/jsii-runtime-go"
)

// addWarmBuffer keeps WarmBuffer.MinInstances running from StartCron to
// EndCron (UTC) with two scheduled actions. Raising MinCapacity raises the
// desired capacity with it; while it lasts, scale-to-zero stops at the
// minimum. At EndCron the minimum and the desired capacity go back to 0, as
// the nightly schedule does: idle instances go, busy ones are protected from
// scale-in until their worker finishes its job, and jobs still queued start
// the fleet again through the queue-has-jobs alarm. Setting only the minimum
// would leave the instances running until the next queue-empty alarm, which
// does not fire again while it already is in ALARM.
func addWarmBuffer(f Fleet) {
	wb := f.Cfg.WarmBuffer
	if !wb.Enabled {
		return
	}
	f.Asg.ScaleOnSchedule(jsii.String("WarmBufferStart"), &awsautoscaling.BasicScheduledActionProps{
		Schedule:    awsautoscaling.Schedule_Expression(jsii.String(wb.StartCron)),
		MinCapacity: jsii.Number(float64(wb.MinInstances)),
		TimeZone:    jsii.String("UTC"),
	})
	f.Asg.ScaleOnSchedule(jsii.String("WarmBufferEnd"), &awsautoscaling.BasicScheduledActionProps{
		Schedule:        awsautoscaling.Schedule_Expression(jsii.String(wb.EndCron)),
		MinCapacity:     jsii.Number(0),
		DesiredCapacity: jsii.Number(0),
		TimeZone:        jsii.String("UTC"),
	})
}
