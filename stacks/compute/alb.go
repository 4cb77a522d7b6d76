package compute

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecs"
	elb "github.com/aws/aws-cdk-go/awscdk/v2/awselasticloadbalancingv2"
	"github.com/aws/jsii-runtime-go"
	"github.com/bp/infra/stacks/data"
	"github.com/bp/infra/stacks/network"
)

// BackendPaths go to the Laravel backend; everything else to Next.js.
var BackendPaths = []string{"/api/*", "/sanctum/*", "/up"}

// TLSPolicy allows TLS 1.3 and 1.2 only (CDK's default policy still allows TLS 1.0).
const TLSPolicy = "ELBSecurityPolicy-TLS13-1-2-2021-06"

// newAlb is the internet-facing ALB: HTTPS with the stage's certificate, HTTP
// redirected to HTTPS, plain HTTP only where the stage explicitly allows it.
func newAlb(stack awscdk.Stack, p Props, backend, frontend awsecs.FargateService) (elb.ApplicationLoadBalancer, elb.ApplicationTargetGroup, elb.ApplicationTargetGroup) {
	cfg := p.Cfg
	alb := elb.NewApplicationLoadBalancer(stack, jsii.String("Alb"), &elb.ApplicationLoadBalancerProps{
		LoadBalancerName:        jsii.String(p.Names.Resource("alb")),
		Vpc:                     p.Net.Vpc,
		InternetFacing:          jsii.Bool(true),
		VpcSubnets:              &awsec2.SubnetSelection{SubnetType: awsec2.SubnetType_PUBLIC},
		SecurityGroup:           p.Net.SecurityGroups.Alb,
		DropInvalidHeaderFields: jsii.Bool(true),
		IdleTimeout:             awscdk.Duration_Seconds(jsii.Number(float64(cfg.Alb.IdleTimeoutSeconds))),
		DeletionProtection:      jsii.Bool(cfg.IsProduction()),
	})
	alb.LogAccessLogs(p.Data.AccessLogsBucket, jsii.String(data.AccessLogsAlbPrefix))

	targets := func(id, svc string, port int, healthPath string, service awsecs.FargateService, container string) elb.ApplicationTargetGroup {
		return elb.NewApplicationTargetGroup(stack, jsii.String(id), &elb.ApplicationTargetGroupProps{
			TargetGroupName: jsii.String(p.Names.Resource(svc)),
			Vpc:             p.Net.Vpc,
			Port:            jsii.Number(float64(port)),
			Protocol:        elb.ApplicationProtocol_HTTP,
			TargetType:      elb.TargetType_IP,
			Targets: &[]elb.IApplicationLoadBalancerTarget{service.LoadBalancerTarget(&awsecs.LoadBalancerTargetOptions{
				ContainerName: jsii.String(container), ContainerPort: jsii.Number(float64(port)),
			})},
			DeregistrationDelay: awscdk.Duration_Seconds(jsii.Number(30)),
			HealthCheck: &elb.HealthCheck{
				Path:                    jsii.String(healthPath),
				HealthyHttpCodes:        jsii.String("200-399"),
				Interval:                awscdk.Duration_Seconds(jsii.Number(15)),
				HealthyThresholdCount:   jsii.Number(2),
				UnhealthyThresholdCount: jsii.Number(3),
			},
		})
	}
	backendTargets := targets("BackendTargets", BackendService, network.NginxPort, "/up", backend, NginxContainer)
	frontendTargets := targets("FrontendTargets", FrontendService, network.NextjsPort, "/", frontend, NextjsContainer)

	var app elb.ApplicationListener
	if cfg.ServesHTTPS() {
		app = alb.AddListener(jsii.String("Https"), &elb.BaseApplicationListenerProps{
			Port:          jsii.Number(443),
			Protocol:      elb.ApplicationProtocol_HTTPS,
			Certificates:  &[]elb.IListenerCertificate{elb.ListenerCertificate_FromArn(jsii.String(cfg.CertificateArn))},
			SslPolicy:     elb.SslPolicy_RECOMMENDED_TLS,
			Open:          jsii.Bool(false), // ingress lives in the Network stack's ALB group
			DefaultAction: elb.ListenerAction_Forward(&[]elb.IApplicationTargetGroup{frontendTargets}, nil),
		})
		alb.AddListener(jsii.String("HttpRedirect"), &elb.BaseApplicationListenerProps{
			Port:     jsii.Number(80),
			Protocol: elb.ApplicationProtocol_HTTP,
			Open:     jsii.Bool(false),
			DefaultAction: elb.ListenerAction_Redirect(&elb.RedirectOptions{
				Protocol: jsii.String("HTTPS"), Port: jsii.String("443"), Permanent: jsii.Bool(true),
			}),
		})
	} else {
		// Only reachable when the stage set allowHttpOnly explicitly (config validation).
		app = alb.AddListener(jsii.String("Http"), &elb.BaseApplicationListenerProps{
			Port:          jsii.Number(80),
			Protocol:      elb.ApplicationProtocol_HTTP,
			Open:          jsii.Bool(false),
			DefaultAction: elb.ListenerAction_Forward(&[]elb.IApplicationTargetGroup{frontendTargets}, nil),
		})
	}
	addWorkerAPIRules(stack, p, app, backendTargets)
	app.AddAction(jsii.String("Backend"), &elb.AddApplicationActionProps{
		Priority:   jsii.Number(10),
		Conditions: &[]elb.ListenerCondition{elb.ListenerCondition_PathPatterns(jsii.Strings(BackendPaths...))},
		Action:     elb.ListenerAction_Forward(&[]elb.IApplicationTargetGroup{backendTargets}, nil),
	})
	return alb, backendTargets, frontendTargets
}

// addWorkerAPIRules admits /api/worker/* only from the stage's NAT addresses
// (the GPU workers reach the public ALB through NAT): everyone else gets a
// fixed 403 before the backend rule sees the request. The addresses come from
// the Network stack's SSM parameter, resolved by CloudFormation at deploy time.
func addWorkerAPIRules(stack awscdk.Stack, p Props, listener elb.ApplicationListener, backend elb.ApplicationTargetGroup) {
	natCidrs := awscdk.NewCfnParameter(stack, jsii.String("NatEgressCidrs"), &awscdk.CfnParameterProps{
		Type:        jsii.String("AWS::SSM::Parameter::Value<List<String>>"),
		Default:     jsii.String(p.Net.NatEgressParameter),
		Description: jsii.String("The stage's NAT addresses (written by the network stack): the only sources of the worker API"),
	})
	workerPaths := elb.ListenerCondition_PathPatterns(jsii.Strings(workerAPIPrefix + "*"))
	listener.AddAction(jsii.String("WorkerApiFromNat"), &elb.AddApplicationActionProps{
		Priority:   jsii.Number(5),
		Conditions: &[]elb.ListenerCondition{workerPaths, elb.ListenerCondition_SourceIps(natCidrs.ValueAsList())},
		Action:     elb.ListenerAction_Forward(&[]elb.IApplicationTargetGroup{backend}, nil),
	})
	listener.AddAction(jsii.String("WorkerApiElsewhere"), &elb.AddApplicationActionProps{
		Priority:   jsii.Number(6),
		Conditions: &[]elb.ListenerCondition{workerPaths},
		Action: elb.ListenerAction_FixedResponse(jsii.Number(403), &elb.FixedResponseOptions{
			ContentType: jsii.String("text/plain"), MessageBody: jsii.String("The worker API is open only to the stage's GPU fleet."),
		}),
	})
}
