package network

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/constructs-go/constructs/v10"

	"github.com/bp/infra/constructs/alarms"
)

// natDevice is one NAT gateway or NAT instance of the VPC.
type natDevice struct {
	gatewayID  *string
	instanceID *string
	publicIP   *string // the Elastic IP it sends from
}

// addNatAlarms watches the review's first cost hotspot, NAT data processing,
// in bytes per hour: a gateway's bytes both ways, or a NAT instance's
// NetworkOut (it forwards every byte out of its one interface).
func addNatAlarms(scope constructs.Construct, p Props, topic awssns.ITopic, nats []natDevice) []string {
	notify := alarms.Notifier{Topic: topic}
	hour := alarms.Minutes(60)
	limit := p.Cfg.Alarms.NatGbPerHour
	runbook := "find the talker in the VPC flow logs (" + p.Names.LogGroup("vpc-flow-logs") + "); S3 must use the gateway endpoint, AWS APIs the interface endpoints"
	var names []string
	for i, nat := range nats {
		n := i + 1
		spec := alarms.Spec{
			Name:      p.Names.Alarm(fmt.Sprintf("nat-%d-bytes", n)),
			Summary:   fmt.Sprintf("NAT %d processed > %d GiB in an hour", n, limit),
			Runbook:   runbook,
			Threshold: float64(limit) * alarms.GiB, Comparison: awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD,
			Periods: 1, Missing: awscloudwatch.TreatMissingData_NOT_BREACHING,
		}
		if nat.gatewayID != nil {
			dims := map[string]*string{"NatGatewayId": nat.gatewayID}
			spec.Runbook += " ($0.045/GB processed)"
			spec.Metric = alarms.Combine("SUM", fmt.Sprintf("nat%d", n), fmt.Sprintf("NAT gateway %d bytes", n), hour, []awscloudwatch.IMetric{
				alarms.Metric("AWS/NATGateway", "BytesOutToDestination", dims, "Sum", hour),
				alarms.Metric("AWS/NATGateway", "BytesOutToSource", dims, "Sum", hour),
			})
		} else {
			spec.Summary += " (NAT instance NetworkOut)"
			spec.Metric = alarms.Metric("AWS/EC2", "NetworkOut", map[string]*string{"InstanceId": nat.instanceID}, "Sum", hour)
		}
		notify.New(scope, fmt.Sprintf("Alarm-nat-%d-bytes", n), spec)
		names = append(names, spec.Name)
	}
	return names
}
