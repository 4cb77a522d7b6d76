package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bp/infra/internal/cfn"
)

// goldenDir holds the project's golden templates of both stages, one file
// per stack (test/testdata/<stage>/<stack>.json); the snapshot test keeps
// them equal to what the app synthesizes.
const goldenDir = "../../test/testdata"

// loadGolden reads the golden templates of a stage as its stacks, named
// like the deployed stacks (bp-<stage>-<stack>).
func loadGolden(t *testing.T, stage string) []cfn.Stack {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(goldenDir, stage, "*.json"))
	require.NoError(t, err)
	require.NotEmpty(t, files, "no golden templates in %s/%s", goldenDir, stage)
	var stacks []cfn.Stack
	for _, f := range files {
		_, tpl, err := cfn.ReadTemplate(f)
		require.NoError(t, err)
		name := "bp-" + stage + "-" + strings.TrimSuffix(filepath.Base(f), ".json")
		stacks = append(stacks, cfn.Stack{Stage: stage, Name: name, TemplatePath: f, Template: tpl})
	}
	return stacks
}

// edgeList renders edges as "kind:name -> kind:name [edge kind: labels]"
// with the physical names of the nodes.
func edgeList(d Diagram) []string {
	nodes := map[string]Node{}
	for _, n := range d.Nodes {
		nodes[n.ID] = n
	}
	var out []string
	for _, e := range d.Edges {
		f, t := nodes[e.From], nodes[e.To]
		out = append(out, fmt.Sprintf("%s:%s -> %s:%s [%s: %s]", f.Kind, f.Name, t.Kind, t.Name, e.Kind, strings.Join(e.Labels, "; ")))
	}
	slices.Sort(out)
	return out
}

// commonFlows is what the architecture is, in both stages ({s} is the
// stage), written from the design rather than from the tool's output:
//   - the internet reaches the ALB (HTTPS, and HTTP that redirects) and the
//     media CDN (HTTPS only); the ALB sends /api/*, /sanctum/* and /up to
//     the backend's nginx on 80 and everything else to nextjs on 3000;
//   - the backend talks to MariaDB on 3306 and Redis on 6379; DB-init
//     (the custom resource that creates the databases) to MariaDB only;
//   - the GPU workers and the frontend's server-side rendering call the
//     public API: out through the NAT and back in through the ALB on 443;
//   - the backend task role reads and writes the media, models and
//     ComfyUI-logs buckets and the fleet SSM parameters and puts metrics
//     in ComfyUI/Workers; ECS injects the backend's five secrets at start;
//   - the GPU workers read the fleet secret, their active-bundle
//     parameter and the models bucket, put metrics, and protect their own
//     instances; S3 goes through the gateway endpoint;
//   - the queue-empty alarm notifies the scale-to-zero topic, whose Lambda
//     sets the ASG's desired capacity; the queue-has-jobs alarm scales the
//     ASG out; the reaper runs every 5 minutes, reads metrics, unprotects
//     instances and publishes to the ops alerts.
var commonFlows = []string{
	// network
	"internet:Internet -> alb:bp-{s}-alb [network: 80, 443]",
	"internet:Internet -> cloudfront:MediaCdn [network: 443]",
	"alb:bp-{s}-alb -> ecs:bp-{s}-backend [network: 80; /api/* /sanctum/* /up; /api/worker/*; from listed]", // the worker API only from the NAT addresses
	"alb:bp-{s}-alb -> ecs:bp-{s}-frontend [network: 3000; default]",
	"ecs:bp-{s}-backend -> rds:bp-{s}-db [network: 3306]",
	"ecs:bp-{s}-backend -> cache:bp-{s}-cache [network: 6379]",
	"lambda:bp-{s}-db-init -> rds:bp-{s}-db [network: 3306]",
	"asg:bp-{s}-gpu-default -> alb:bp-{s}-alb [network: 443; via NAT]",
	"ecs:bp-{s}-frontend -> alb:bp-{s}-alb [network: 443; via NAT]",
	"asg:bp-{s}-gpu-default -> gateway:s3 [network: 443]",
	"lambda:bp-{s}-db-init -> gateway:s3 [network: 443]",
	"cloudfront:MediaCdn -> bucket:bp-{s}-media-{a} [network: origin (OAC)]",
	// data access allowed by IAM
	"ecs:bp-{s}-backend -> bucket:bp-{s}-media-{a} [access: read/write]",
	"ecs:bp-{s}-backend -> bucket:bp-{s}-models-{a} [access: read/write]",
	"ecs:bp-{s}-backend -> bucket:bp-{s}-comfyui-logs-{a} [access: read/write]",
	"ecs:bp-{s}-backend -> ssm:SSM Parameter Store [access: read/write]",
	"ecs:bp-{s}-backend -> metrics:CloudWatch metrics [access: write ComfyUI/Workers]",
	"secret:/bp/{s}/secrets/app-key -> ecs:bp-{s}-backend [access: injected at start]",
	"secret:/bp/{s}/secrets/comfyui-asset-ops-secret -> ecs:bp-{s}-backend [access: injected at start]",
	"secret:/bp/{s}/secrets/cache-auth-token -> ecs:bp-{s}-backend [access: injected at start]",
	"secret:/bp/{s}/secrets/db-app-user -> ecs:bp-{s}-backend [access: injected at start]",
	"secret:/bp/{s}/secrets/comfyui-fleet-secret -> ecs:bp-{s}-backend [access: injected at start]",
	"ecr:bp-backend-{s} -> ecs:bp-{s}-backend [access: image pull at start]",
	"ecr:bp-frontend-{s} -> ecs:bp-{s}-frontend [access: image pull at start]",
	"lambda:bp-{s}-db-init -> secret:/bp/{s}/secrets/db-app-user [access: read]",
	"lambda:bp-{s}-db-init -> secret:master user of bp-{s}-db [access: read]",
	"asg:bp-{s}-gpu-default -> secret:/bp/{s}/secrets/comfyui-fleet-secret [access: read]",
	"asg:bp-{s}-gpu-default -> ssm:SSM Parameter Store [access: read]",
	"asg:bp-{s}-gpu-default -> bucket:bp-{s}-models-{a} [access: read]",
	"asg:bp-{s}-gpu-default -> metrics:CloudWatch metrics [access: write bp/{s}/gpu-worker]",
	"asg:bp-{s}-gpu-default -> asg:bp-{s}-gpu-default [access: SetInstanceProtection]",
	"lambda:bp-{s}-fleet-protection-release -> asg:bp-{s}-gpu-default [access: SetInstanceProtection]",
	"lambda:bp-{s}-fleet-reaper -> asg:bp-{s}-gpu-default [access: SetInstanceProtection]",
	"lambda:bp-{s}-fleet-reaper -> sns:bp-{s}-ops-alerts [access: publish]",
	"lambda:bp-{s}-fleet-reaper -> metrics:CloudWatch metrics [access: read]",
	"lambda:bp-{s}-scale-to-zero -> asg:bp-{s}-gpu-default [access: SetDesiredCapacity]",
	"lambda:bp-{s}-ami-refresh -> asg:bp-{s}-gpu-default [access: StartInstanceRefresh]",
	"lambda:bp-{s}-ami-refresh -> ssm:SSM Parameter Store [access: read]",
	"alb:bp-{s}-alb -> bucket:bp-{s}-access-logs-{a} [access: access logs]",
	"cloudfront:MediaCdn -> bucket:bp-{s}-access-logs-{a} [access: access logs]",
	"bucket:bp-{s}-media-{a} -> bucket:bp-{s}-access-logs-{a} [access: access logs]",
	"bucket:bp-{s}-models-{a} -> bucket:bp-{s}-access-logs-{a} [access: access logs]",
	"bucket:bp-{s}-comfyui-logs-{a} -> bucket:bp-{s}-access-logs-{a} [access: access logs]",
	// invocations and notifications
	"alarms:bp-{s}-network -> sns:bp-{s}-ops-alerts [event: notify]",   // the NAT bytes alarms, beside the NATs
	"alarms:bp-{s}-gpu-fleet -> sns:bp-{s}-ops-alerts [event: notify]", // the fleet Lambdas' error alarms, beside the functions
	"alarms:bp-{s}-observability -> sns:bp-{s}-ops-alerts [event: notify]",
	"alarms:bp-{s}-gpu-fleet -> sns:bp-{s}-scale-to-zero [event: notify]",
	"alarms:bp-{s}-gpu-fleet -> asg:bp-{s}-gpu-default [event: scaling policy]",
	"sns:bp-{s}-scale-to-zero -> lambda:bp-{s}-scale-to-zero [event: invoke]",
	"rule:rate(5 minutes) -> lambda:bp-{s}-fleet-reaper [event: invoke]",
	"rule:bp-{s}-gpu-ami-changed -> lambda:bp-{s}-ami-refresh [event: invoke]", // the AMI parameter's change event
	"rule:rate(15 minutes) -> lambda:bp-{s}-ami-refresh [event: invoke]",
	"asg:bp-{s}-gpu-default -> rule:bp-{s}-gpu-launch-failures [event: EC2 Instance Launch Unsuccessful]",
	"rule:bp-{s}-gpu-launch-failures -> sns:bp-{s}-ops-alerts [event: notify]",
	"asg:bp-{s}-gpu-default -> sns:bp-{s}-ops-alerts [event: launch error, terminate error]",
	"budget:bp-{s}-monthly -> sns:bp-{s}-ops-alerts [event: notify]",
	"cloudformation:CloudFormation -> lambda:bp-{s}-db-init [event: custom resource DbInit]",
	"cloudformation:CloudFormation -> lambda:bp-{s}-fleet-protection-release [event: custom resource FleetProtectionRelease]",
}

// The compute in the VPC that talks to AWS APIs: backend, frontend,
// DB-init and the GPU workers. All of them leave the VPC through the NAT
// on 443 (AWS APIs, ECR, third-party APIs, the public API): neither preset
// enables interface endpoints (network.interfaceEndpoints in config/types.go
// says when one pays for itself).
var vpcCallers = []string{"ecs:bp-{s}-backend", "ecs:bp-{s}-frontend", "lambda:bp-{s}-db-init", "asg:bp-{s}-gpu-default"}

func expectedFlows(stage string) []string {
	var want []string
	want = append(want, commonFlows...)
	nats := map[string][]string{
		"staging":    {"VpcpublicSubnet1NatInstance"},                              // one NAT instance
		"production": {"VpcpublicSubnet1NATGateway", "VpcpublicSubnet2NATGateway"}, // one per AZ
	}[stage]
	for _, nat := range nats {
		for _, from := range vpcCallers {
			want = append(want, from+" -> nat:"+nat+" [network: 443]")
		}
		want = append(want, "nat:"+nat+" -> internet:Internet [network: 443]")
	}
	switch stage {
	case "staging":
		want = append(want,
			"sns:bp-staging-ops-alerts -> email:ops-staging@example.com [event: email]",
			"budget:bp-staging-monthly -> email:ops-staging@example.com [event: email]",
			// nightly scale to zero, staging only
			"schedule:0 22 * * * UTC -> asg:bp-staging-gpu-default [event: desired 0]",
		)
	case "production":
		want = append(want,
			// the On-Demand fallback, on in production only
			"rule:rate(1 minute) -> lambda:bp-{s}-spot-fallback [event: invoke]",
			"lambda:bp-{s}-spot-fallback -> asg:bp-{s}-gpu-default [access: UpdateAutoScalingGroup]",
			"lambda:bp-{s}-spot-fallback -> metrics:CloudWatch metrics [access: read]",
			"lambda:bp-{s}-spot-fallback -> sns:bp-{s}-ops-alerts [access: publish]",
			"sns:bp-production-ops-alerts -> email:ops@example.com [event: email]",
			"budget:bp-production-monthly -> email:ops@example.com [event: email]",
		)
	}
	// {a} is the stage's account (cdk.json: one account per stage).
	account := map[string]string{"staging": "111111111111", "production": "222222222222"}[stage]
	for i := range want {
		want[i] = strings.ReplaceAll(strings.ReplaceAll(want[i], "{s}", stage), "{a}", account)
	}
	slices.Sort(want)
	return want
}

func TestFlowsOfBothStages(t *testing.T) {
	for _, stage := range []string{"staging", "production"} {
		t.Run(stage, func(t *testing.T) {
			got := edgeList(buildDiagram(stage, loadGolden(t, stage)))
			assert.Equal(t, expectedFlows(stage), got)
		})
	}
}

// TestNoEdgeFromSharing: arrows are traffic, so what two resources merely
// share never links them.
func TestNoEdgeFromSharing(t *testing.T) {
	for _, stage := range []string{"staging", "production"} {
		t.Run(stage, func(t *testing.T) {
			d := buildDiagram(stage, loadGolden(t, stage))
			kindOf := map[string]string{}
			for _, n := range d.Nodes {
				kindOf[n.ID] = n.Kind + ":" + n.Name
			}
			s := func(x string) string { return strings.ReplaceAll(x, "{s}", stage) }
			gpu, db, cache := s("asg:bp-{s}-gpu-default"), s("rds:bp-{s}-db"), s("cache:bp-{s}-cache")
			dbInit, backend, frontend := s("lambda:bp-{s}-db-init"), s("ecs:bp-{s}-backend"), s("ecs:bp-{s}-frontend")
			for _, e := range d.Edges {
				from, to := kindOf[e.From], kindOf[e.To]
				pair := []string{from, to}
				// GPU workers never talk to the database or the cache.
				assert.False(t, from == gpu && (to == db || to == cache), "edge %s -> %s", from, to)
				// DB-init and the backend share the app-user secret, nothing else.
				assert.False(t, slices.Contains(pair, dbInit) && slices.Contains(pair, backend), "edge %s -> %s", from, to)
				// The services share the cluster (and the ALB), never a flow.
				assert.False(t, slices.Contains(pair, backend) && slices.Contains(pair, frontend), "edge %s -> %s", from, to)
				// Consumers of one secret are not linked through it.
				assert.False(t, strings.HasPrefix(from, "secret:") && !strings.HasPrefix(to, "ecs:"), "edge %s -> %s", from, to)
			}
		})
	}
}

// sharedTemplate has a Lambda and an ECS service in one security group,
// both reading one secret, and a database that allows the group in: each
// reaches the database, but the two are never linked to each other.
const sharedTemplate = `{
  "Resources": {
    "Sg": {"Type": "AWS::EC2::SecurityGroup", "Properties": {"GroupDescription": "shared"}},
    "DbSg": {"Type": "AWS::EC2::SecurityGroup", "Properties": {"GroupDescription": "db",
      "SecurityGroupIngress": [{"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432, "SourceSecurityGroupId": {"Fn::GetAtt": ["Sg", "GroupId"]}}]}},
    "Db": {"Type": "AWS::RDS::DBInstance", "Properties": {"DBInstanceIdentifier": "db", "VPCSecurityGroups": [{"Fn::GetAtt": ["DbSg", "GroupId"]}]}},
    "Secret": {"Type": "AWS::SecretsManager::Secret", "Properties": {"Name": "shared-secret"}},
    "RoleA": {"Type": "AWS::IAM::Role", "Properties": {}},
    "RoleB": {"Type": "AWS::IAM::Role", "Properties": {}},
    "Policy": {"Type": "AWS::IAM::Policy", "Properties": {"Roles": [{"Ref": "RoleA"}, {"Ref": "RoleB"}],
      "PolicyDocument": {"Statement": [{"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": {"Ref": "Secret"}}]}}},
    "FnA": {"Type": "AWS::Lambda::Function", "Properties": {"FunctionName": "a", "Role": {"Fn::GetAtt": ["RoleA", "Arn"]},
      "VpcConfig": {"SecurityGroupIds": [{"Fn::GetAtt": ["Sg", "GroupId"]}]}}},
    "TaskB": {"Type": "AWS::ECS::TaskDefinition", "Properties": {"TaskRoleArn": {"Fn::GetAtt": ["RoleB", "Arn"]},
      "ContainerDefinitions": [{"Name": "app", "Environment": [{"Name": "SECRET_ARN", "Value": {"Ref": "Secret"}}]}]}},
    "SvcB": {"Type": "AWS::ECS::Service", "Properties": {"ServiceName": "b", "TaskDefinition": {"Ref": "TaskB"},
      "NetworkConfiguration": {"AwsvpcConfiguration": {"SecurityGroups": [{"Fn::GetAtt": ["Sg", "GroupId"]}]}}}}
  }
}`

func TestSharedGroupAndSecretLinkNothing(t *testing.T) {
	got := edgeList(buildDiagram("test", []cfn.Stack{{Name: "app", Template: readTemplate(t, sharedTemplate)}}))
	assert.Equal(t, []string{
		"ecs:b -> rds:db [network: 5432]",
		"ecs:b -> secret:shared-secret [access: read]",
		"lambda:a -> rds:db [network: 5432]",
		"lambda:a -> secret:shared-secret [access: read]",
	}, got)
}

// A rule that lets the group in is not traffic when the sender's egress
// does not let it out (CDK's "disallow all" placeholder rule).
func TestIngressNeedsTheSendersEgress(t *testing.T) {
	tpl := strings.Replace(sharedTemplate, `"GroupDescription": "shared"`,
		`"GroupDescription": "shared", "SecurityGroupEgress": [{"CidrIp": "255.255.255.255/32", "IpProtocol": "icmp", "FromPort": 252, "ToPort": 86}]`, 1)
	got := edgeList(buildDiagram("test", []cfn.Stack{{Name: "app", Template: readTemplate(t, tpl)}}))
	for _, e := range got {
		assert.NotContains(t, e, "-> rds:db", "egress does not allow it: %s", e)
	}
}

func readTemplate(t *testing.T, body string) *cfn.Template {
	t.Helper()
	path := filepath.Join(t.TempDir(), "template.json")
	require.NoError(t, os.WriteFile(path, []byte(body), 0o644))
	_, tpl, err := cfn.ReadTemplate(path)
	require.NoError(t, err)
	return tpl
}
