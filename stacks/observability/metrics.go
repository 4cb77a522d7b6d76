package observability

import (
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/jsii-runtime-go"
	"github.com/bp/infra/bootcontract"
)

// Shorthands for the observability stack.
const (
	gte = awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD
	gt  = awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD
	lt  = awscloudwatch.ComparisonOperator_LESS_THAN_THRESHOLD

	notBreaching = awscloudwatch.TreatMissingData_NOT_BREACHING
	breaching    = awscloudwatch.TreatMissingData_BREACHING

	// WorkerNamespace is where the backend publishes the fleet metrics.
	WorkerNamespace = bootcontract.MetricsNamespace
)

// workerDims are the dimensions the backend publishes each fleet's metrics with.
func workerDims(slug, stage string) map[string]*string {
	return map[string]*string{bootcontract.DimFleetSlug: jsii.String(slug), bootcontract.DimStage: jsii.String(stage)}
}
