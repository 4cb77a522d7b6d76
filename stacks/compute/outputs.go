package compute

import (
	"maps"
	"slices"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
)

// addComputeOutputs publishes what operators and CI/CD read: the names they
// deploy to and what the migration run-task needs (subnets and group).
func addComputeOutputs(stack awscdk.Stack, p Props, c Compute) {
	var subnets []string
	for _, s := range *p.Net.Vpc.PrivateSubnets() {
		subnets = append(subnets, *s.SubnetId())
	}
	outputs := map[string]*string{
		"ClusterName":          c.Cluster.ClusterName(),
		"BackendServiceName":   c.Backend.ServiceName(),
		"FrontendServiceName":  c.Frontend.ServiceName(),
		"BackendTaskFamily":    jsii.String(p.Names.Service(BackendService)),
		"FrontendTaskFamily":   jsii.String(p.Names.Service(FrontendService)),
		"AlbDnsName":           c.Alb.LoadBalancerDnsName(),
		"ApiBaseUrl":           jsii.String(p.Cfg.APIBaseURL() + "/api"),
		"BackendSubnets":       awscdk.Fn_Join(jsii.String(","), jsii.Strings(subnets...)),
		"BackendSecurityGroup": p.Net.SecurityGroups.Backend.SecurityGroupId(),
		"MigrationContainer":   jsii.String(PhpFpmContainer),
		"MigrationCommands":    jsii.String(strings.Join([]string{"php artisan migrate --force", "php artisan tenancy:pools-migrate"}, " && ")),
	}
	for _, k := range slices.Sorted(maps.Keys(outputs)) {
		awscdk.NewCfnOutput(stack, jsii.String(k), &awscdk.CfnOutputProps{Value: outputs[k]})
	}
}
