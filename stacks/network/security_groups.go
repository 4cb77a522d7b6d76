package network

import (
	"slices"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/jsii-runtime-go"

	"github.com/bp/infra/config"
)

// Ports of the flows between groups.
const (
	NginxPort    = 80
	NextjsPort   = 3000
	DatabasePort = 3306
	CachePort    = 6379
	HTTPSPort    = 443
)

// SecurityGroups are the stage's groups. Each allows only the flows listed in
// newSecurityGroups; internal groups have no egress at all.
type SecurityGroups struct {
	Alb       awsec2.SecurityGroup
	Backend   awsec2.SecurityGroup
	Frontend  awsec2.SecurityGroup
	GpuWorker awsec2.SecurityGroup
	Database  awsec2.SecurityGroup
	Cache     awsec2.SecurityGroup
	DbInit    awsec2.SecurityGroup
	Endpoints awsec2.SecurityGroup
}

func newGroup(stack awscdk.Stack, vpc awsec2.IVpc, id, description string) awsec2.SecurityGroup {
	return awsec2.NewSecurityGroup(stack, jsii.String(id), &awsec2.SecurityGroupProps{
		Vpc:              vpc,
		Description:      jsii.String(description),
		AllowAllOutbound: jsii.Bool(false),
	})
}

func newSecurityGroups(stack awscdk.Stack, vpc awsec2.IVpc, cfg config.Stage) SecurityGroups {
	g := SecurityGroups{
		Alb:       newGroup(stack, vpc, "AlbSg", "Internet-facing ALB: HTTPS from anywhere, to backend nginx and frontend nextjs"),
		Backend:   newGroup(stack, vpc, "BackendSg", "Backend tasks (nginx, php-fpm, scheduler, queue-worker)"),
		Frontend:  newGroup(stack, vpc, "FrontendSg", "Frontend tasks (nextjs)"),
		GpuWorker: newGroup(stack, vpc, "GpuWorkerSg", "GPU workers: egress to the backend API via the ALB, AWS endpoints and S3 only"),
		Database:  newGroup(stack, vpc, "DatabaseSg", "RDS MariaDB: MySQL port from backend and DB-init only"),
		Cache:     newGroup(stack, vpc, "CacheSg", "ElastiCache: Redis port from backend only"),
		DbInit:    newGroup(stack, vpc, "DbInitSg", "DB-init custom resource: database port and Secrets Manager only"),
		Endpoints: newGroup(stack, vpc, "EndpointsSg", "Interface VPC endpoints: HTTPS from the app groups"),
	}
	anywhere := awsec2.Peer_AnyIpv4()
	s3 := awsec2.Peer_PrefixList(jsii.String(cfg.Network.S3PrefixListID))
	tcp := func(port int) awsec2.Port { return awsec2.Port_Tcp(jsii.Number(float64(port))) }
	allow := func(from, to awsec2.SecurityGroup, port int, why string) {
		// One rule object on each side, described once, so reviewers see the flow.
		from.AddEgressRule(to, tcp(port), jsii.String(why), jsii.Bool(false))
		to.AddIngressRule(from, tcp(port), jsii.String(why), jsii.Bool(false))
	}

	// Internet -> ALB. Port 80 exists only to redirect to HTTPS (or to serve a
	// stage that explicitly allows plain HTTP).
	g.Alb.AddIngressRule(anywhere, tcp(cfg.ListenerPort()), jsii.String("Public app traffic"), nil)
	if cfg.ServesHTTPS() {
		g.Alb.AddIngressRule(anywhere, tcp(80), jsii.String("HTTP, redirected to HTTPS"), nil)
	}
	allow(g.Alb, g.Backend, NginxPort, "ALB to backend nginx")
	allow(g.Alb, g.Frontend, NextjsPort, "ALB to frontend nextjs")

	allow(g.Backend, g.Database, DatabasePort, "Backend to MariaDB")
	allow(g.Backend, g.Cache, CachePort, "Backend to Redis (TLS)")
	allow(g.DbInit, g.Database, DatabasePort, "DB-init to MariaDB")
	// A custom resource answers CloudFormation on a pre-signed S3 URL; without
	// this the deploy would hang for an hour (the old DB-init had no egress).
	g.DbInit.AddEgressRule(s3, tcp(HTTPSPort), jsii.String("CloudFormation response URL (pre-signed S3) via the gateway endpoint"), nil)

	// Tasks pull images, read secrets, ship logs and call third-party HTTPS APIs.
	g.Backend.AddEgressRule(anywhere, tcp(HTTPSPort), jsii.String("HTTPS to AWS APIs, ECR and third-party APIs"), nil)
	g.Frontend.AddEgressRule(anywhere, tcp(HTTPSPort), jsii.String("HTTPS to ECR, logs and the public API (server-side rendering)"), nil)

	// GPU workers reach the backend through the public ALB (via NAT) on exactly
	// the port the ALB listens on: the old stacks opened 443 while the ALB
	// served 80 (review blocker 3).
	g.GpuWorker.AddEgressRule(anywhere, tcp(cfg.ListenerPort()), describe("Backend API via the public ALB (%s)", scheme(cfg)), nil)
	g.GpuWorker.AddEgressRule(s3, tcp(HTTPSPort), jsii.String("S3 through the gateway endpoint (models, inputs, outputs)"), nil)

	endpoints := cfg.Network.InterfaceEndpoints
	for _, client := range []awsec2.SecurityGroup{g.Backend, g.Frontend, g.GpuWorker, g.DbInit} {
		if len(endpoints) > 0 {
			allow(client, g.Endpoints, HTTPSPort, "AWS APIs through interface endpoints")
		}
	}
	// AWS APIs without an interface endpoint are reached through NAT.
	if !slices.Contains(endpoints, "secretsmanager") {
		g.DbInit.AddEgressRule(anywhere, tcp(HTTPSPort), jsii.String("Secrets Manager through NAT (no interface endpoint)"), nil)
	}
	if cfg.ListenerPort() != HTTPSPort && !containsAll(endpoints, gpuWorkerAPIs) {
		g.GpuWorker.AddEgressRule(anywhere, tcp(HTTPSPort), jsii.String("AWS APIs through NAT (not all behind interface endpoints)"), nil)
	}
	return g
}

func scheme(cfg config.Stage) string {
	if cfg.ServesHTTPS() {
		return "HTTPS"
	}
	return "HTTP"
}

// gpuWorkerAPIs are the AWS APIs a GPU worker calls besides S3 (gateway).
var gpuWorkerAPIs = []string{"autoscaling", "logs", "monitoring", "secretsmanager", "ssm", "ssmmessages", "ec2messages"}

func containsAll(have, want []string) bool {
	for _, w := range want {
		if !slices.Contains(have, w) {
			return false
		}
	}
	return true
}
