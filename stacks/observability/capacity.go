package observability

import (
	"github.com/aws/jsii-runtime-go"

	"github.com/bp/infra/constructs/alarms"
	"github.com/bp/infra/stacks/gpufleet"
)

// capacityFunctionAlarms watch the GPU fleets' capacity Lambdas the way
// fleetFunctionAlarms watch the scale-to-zero path: a failing fallback leaves
// jobs waiting on Spot, a failing AMI refresh leaves instances on an old image.
func (o *obs) capacityFunctionAlarms() {
	cfg, n := o.p.Cfg, o.p.Names
	for _, fn := range []struct {
		id, name, runbook string
		built             bool
	}{
		{"spot-fallback-errors", n.Function(gpufleet.SpotFallbackFunction),
			"the On-Demand fallback cannot run: read the function's log group (Stage-tag check, autoscaling and GetMetricData permissions); until fixed, raise the fleet's OnDemandBaseCapacity by hand while Spot is short",
			gpufleet.HasSpotFallback(cfg)},
		{"ami-refresh-errors", n.Function(gpufleet.AmiRefreshFunction),
			"running GPU instances may stay on the previous AMI: read the function's log group; start an instance refresh by hand with ScaleInProtectedInstances=Wait",
			gpufleet.HasAmiRefresh(cfg)},
	} {
		if !fn.built {
			continue
		}
		o.alarm(fn.id, alarms.Spec{
			Summary:   "Lambda " + fn.name + " failed in the last 5 min",
			Runbook:   fn.runbook,
			Metric:    alarms.Metric("AWS/Lambda", "Errors", map[string]*string{"FunctionName": jsii.String(fn.name)}, "Sum", alarms.Minutes(5)),
			Threshold: 1, Comparison: gte, Periods: 1, Missing: notBreaching,
		})
	}
}
