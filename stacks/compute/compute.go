package compute

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapplicationautoscaling"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awselasticloadbalancingv2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/bp/infra/config"
	"github.com/bp/infra/naming"
	"github.com/bp/infra/stacks/base"
	"github.com/bp/infra/stacks/data"
	"github.com/bp/infra/stacks/network"
)

// Props configure the Compute stack.
type Props struct {
	Cfg   config.Stage
	Names naming.Names
	Net   network.Network
	Data  data.Data
}

// Compute is the ECS cluster, the backend and frontend services and the ALB.
type Compute struct {
	Stack    awscdk.Stack
	Cluster  awsecs.Cluster
	Backend  awsecs.FargateService
	Frontend awsecs.FargateService
	Alb      awselasticloadbalancingv2.ApplicationLoadBalancer
	// BackendTargets and FrontendTargets feed the target alarms.
	BackendTargets  awselasticloadbalancingv2.ApplicationTargetGroup
	FrontendTargets awselasticloadbalancingv2.ApplicationTargetGroup
}

// Service names used for ECS, ECR and logs.
const (
	BackendService  = "backend"
	FrontendService = "frontend"
)

// New builds the Compute stack.
func New(scope constructs.Construct, p Props) Compute {
	stack := base.NewStack(scope, p.Cfg, p.Names, naming.Compute, "ECS cluster, backend and frontend services, HTTPS ALB")
	cluster := awsecs.NewCluster(stack, jsii.String("Cluster"), &awsecs.ClusterProps{
		ClusterName:                    jsii.String(p.Names.Cluster()),
		Vpc:                            p.Net.Vpc,
		ContainerInsightsV2:            awsecs.ContainerInsights_ENABLED,
		EnableFargateCapacityProviders: jsii.Bool(true),
		ExecuteCommandConfiguration:    execConfiguration(stack, p),
	})
	// ECS writes Container Insights performance events to this group; creating
	// it first gives it the stage's retention instead of ECS's default.
	insights := base.LogGroup(stack, "ContainerInsightsLogs", "/aws/ecs/containerinsights/"+p.Names.Cluster()+"/performance", p.Cfg.LogRetentionDays)
	cluster.Node().AddDependency(insights)
	// An `aws ecs run-task` without a launch type or strategy (the pipeline's
	// migration task) uses the cluster's default strategy; without one, ECS
	// falls back to the EC2 launch type, and this cluster has no instances.
	cluster.AddDefaultCapacityProviderStrategy(&[]*awsecs.CapacityProviderStrategy{
		{CapacityProvider: jsii.String("FARGATE"), Weight: jsii.Number(1)},
	})
	c := Compute{Stack: stack, Cluster: cluster}
	c.Backend = newBackendService(stack, p, cluster)
	c.Frontend = newFrontendService(stack, p, cluster)
	c.Alb, c.BackendTargets, c.FrontendTargets = newAlb(stack, p, c.Backend, c.Frontend)
	addWaf(c, p)
	addComputeOutputs(stack, p, c)
	base.Finish(stack, p.Cfg, p.Names, suppressions(p.Cfg, p.Names))
	return c
}

// minTasks is the scalable target's minimum: 0 on the very first deploy,
// before the pipeline has pushed any image (cluster.servicesStartAtZero), since
// registering a scalable target moves the running count into [min, max].
func minTasks(cfg config.Stage, svc config.Service) int {
	if cfg.Cluster.ServicesStartAtZero {
		return 0
	}
	return svc.MinCount
}

// desiredCount is set only while the services start at zero. Otherwise it is
// left out of the template: CloudFormation then leaves an existing service's
// running count alone on update (autoscaling owns it), and a new service
// starts at 1 before the scalable target raises it to its minimum.
func desiredCount(cfg config.Stage) *float64 {
	if cfg.Cluster.ServicesStartAtZero {
		return jsii.Number(0)
	}
	return nil
}

// capacityStrategy spreads tasks over FARGATE and FARGATE_SPOT per config.
func capacityStrategy(c config.Cluster) *[]*awsecs.CapacityProviderStrategy {
	var out []*awsecs.CapacityProviderStrategy
	if c.FargateWeight > 0 || c.FargateBase > 0 {
		out = append(out, &awsecs.CapacityProviderStrategy{
			CapacityProvider: jsii.String("FARGATE"), Weight: jsii.Number(float64(c.FargateWeight)), Base: jsii.Number(float64(c.FargateBase)),
		})
	}
	if c.FargateSpotWeight > 0 {
		out = append(out, &awsecs.CapacityProviderStrategy{
			CapacityProvider: jsii.String("FARGATE_SPOT"), Weight: jsii.Number(float64(c.FargateSpotWeight)),
		})
	}
	return &out
}

// newService creates a Fargate service with the care both services share:
// circuit breaker with rollback, ECS Exec, private subnets, CPU autoscaling.
func newService(stack awscdk.Stack, p Props, cluster awsecs.Cluster, id, svc string, def awsecs.FargateTaskDefinition,
	sizes config.Service, sg awsec2.ISecurityGroup) awsecs.FargateService {
	service := awsecs.NewFargateService(stack, jsii.String(id), &awsecs.FargateServiceProps{
		Cluster:                    cluster,
		ServiceName:                jsii.String(p.Names.Service(svc)),
		TaskDefinition:             def,
		DesiredCount:               desiredCount(p.Cfg),
		CapacityProviderStrategies: capacityStrategy(p.Cfg.Cluster),
		SecurityGroups:             &[]awsec2.ISecurityGroup{sg},
		VpcSubnets:                 &awsec2.SubnetSelection{SubnetType: awsec2.SubnetType_PRIVATE_WITH_EGRESS},
		AssignPublicIp:             jsii.Bool(false),
		CircuitBreaker:             &awsecs.DeploymentCircuitBreaker{Enable: jsii.Bool(true), Rollback: jsii.Bool(true)},
		EnableExecuteCommand:       jsii.Bool(p.Cfg.Cluster.ExecEnabled),
		MinHealthyPercent:          jsii.Number(100),
		MaxHealthyPercent:          jsii.Number(200),
		HealthCheckGracePeriod:     awscdk.Duration_Seconds(jsii.Number(60)),
		PropagateTags:              awsecs.PropagatedTagSource_SERVICE,
		EnableECSManagedTags:       jsii.Bool(true),
	})
	// The capacity provider strategy needs the cluster's provider association,
	// which CDK adds to the cluster at synth (an aspect) and does not order
	// before the service; a construct dependency on the cluster covers it.
	service.Node().AddDependency(cluster)
	scaling := service.AutoScaleTaskCount(&awsapplicationautoscaling.EnableScalingProps{
		MinCapacity: jsii.Number(float64(minTasks(p.Cfg, sizes))),
		MaxCapacity: jsii.Number(float64(sizes.MaxCount)),
	})
	scaling.ScaleOnCpuUtilization(jsii.String("CpuScaling"), &awsecs.CpuUtilizationScalingProps{
		TargetUtilizationPercent: jsii.Number(float64(sizes.CpuTargetPercent)),
		ScaleInCooldown:          awscdk.Duration_Seconds(jsii.Number(300)),
		ScaleOutCooldown:         awscdk.Duration_Seconds(jsii.Number(60)),
	})
	return service
}
