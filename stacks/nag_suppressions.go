package stacks

import (
	"fmt"
	"maps"
	"slices"

	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// suppression is one reviewed exception to an AwsSolutions rule, on one
// construct path below a stack. Every entry says why it is safe.
type suppression struct {
	stack     string // naming stack kind
	path      string // construct path below the stack
	rule      string
	reason    string
	appliesTo []string
	when      func(Stage) bool // nil: always
}

// reviewedSuppressions is the one reviewed place for cdk-nag exceptions,
// grouped by stack. Each entry names one construct and one rule, and says why.
func reviewedSuppressions() []suppression {
	var out []suppression
	for _, group := range [][]suppression{networkSuppressions(), dataSuppressions(), computeSuppressions(),
		gpuFleetSuppressions(), observabilitySuppressions()} {
		out = append(out, group...)
	}
	return out
}

// lambdaInVpc covers a Go function of constructs/gofunction placed in the VPC.
func lambdaInVpc(stack, id string) suppression {
	return suppression{stack: stack, path: id + "Role/DefaultPolicy/Resource", rule: "AwsSolutions-IAM5", appliesTo: []string{"Resource::*"},
		reason: "Only the Lambda VPC ENI actions (ec2:Create/Describe/DeleteNetworkInterface, Assign/UnassignPrivateIpAddresses) use *: EC2 offers no resource-level permissions for them."}
}

func networkSuppressions() []suppression {
	natInstance := func(s Stage) bool { return s.Cfg.Network.NatKind == "instance" }
	var out []suppression
	out = append(out, suppression{stack: "network", path: "AlbSg/Resource", rule: "AwsSolutions-EC23",
		reason: "The internet-facing ALB is the app's public entry: only its listener ports (443, and 80 that redirects to 443) are open to 0.0.0.0/0."})
	for i := 1; i <= 6; i++ {
		path := fmt.Sprintf("Vpc/publicSubnet%d/NatInstance/Resource", i)
		when := func(s Stage) bool { return natInstance(s) && i <= s.Cfg.Network.NatCount }
		out = append(out,
			suppression{stack: "network", path: path, rule: "AwsSolutions-EC28", when: when,
				reason: "NAT instances exist only on cheap non-production stages; their traffic is watched by the NAT bytes alarm, so paid detailed monitoring adds nothing."},
			suppression{stack: "network", path: path, rule: "AwsSolutions-EC29", when: when,
				reason: "The NAT instance is disposable and owned by CloudFormation; termination protection would block the stack updates that replace it."})
	}
	return out
}

func dataSuppressions() []suppression {
	out := []suppression{lambdaInVpc("data", "DbInitFunction")}
	rotation := map[string]string{
		"AppKeySecret/Resource":    "APP_KEY encrypts Laravel sessions and data; rotating it is a planned re-encryption, not a schedule.",
		"FleetSecret/Resource":     "COMFYUI_FLEET_SECRET is shared by the backend and running GPU workers; it is rotated by the fleet runbook so both sides change together.",
		"AssetOpsSecret/Resource":  "COMFYUI_ASSET_OPS_SECRET is shared with the asset pipeline and rotated with it by runbook.",
		"CacheAuthSecret/Resource": "The Redis AUTH token is injected into tasks at start; rotation needs the two-step ElastiCache token rotation, done by runbook.",
		"DbAppSecret/Resource":     "ECS injects the app user's password at task start; rotation is a runbook (rotate, DB-init re-syncs the user, then force a new deployment).",
		"Database/Secret/Resource": "The master password is used only by DB-init; rotating it on a schedule would race DB-init during deploys. Rotated by runbook.",
	}
	for _, path := range slices.Sorted(maps.Keys(rotation)) {
		out = append(out, suppression{stack: "data", path: path, rule: "AwsSolutions-SMG4", reason: rotation[path]})
	}
	noCustomCdnDomain := func(s Stage) bool { return s.Cfg.Media.CdnDomainName == "" }
	out = append(out,
		suppression{stack: "data", path: "MediaCdn/Resource", rule: "AwsSolutions-CFR1",
			reason: "Media is served to a worldwide audience; there is no country the product excludes."},
		suppression{stack: "data", path: "MediaCdn/Resource", rule: "AwsSolutions-CFR2",
			reason: "The distribution serves immutable, read-only objects through OAC (GET/HEAD only); WAF request fees would exceed its value here. Egress is watched by CloudFront alarms and the budget."},
		suppression{stack: "data", path: "MediaCdn/Resource", rule: "AwsSolutions-CFR4", when: noCustomCdnDomain,
			reason: "Without media.cdnDomainName the distribution uses the default *.cloudfront.net certificate, whose protocol policy CloudFront fixes; with a custom domain TLSv1.2_2021 is enforced."},
		suppression{stack: "data", path: "Database/Resource", rule: "AwsSolutions-RDS11",
			reason: "The Laravel app and CI/CD use CENTRAL_DB_PORT=3306 (system-facts section 5); the database is in isolated subnets reachable only from the backend and DB-init groups."},
		suppression{stack: "data", path: "Database/Resource", rule: "AwsSolutions-RDS3", when: func(s Stage) bool { return !s.Cfg.Database.MultiAz },
			reason: "Single-AZ by stage config (database.multiAz=false) to keep non-production cost down; production is Multi-AZ."},
		suppression{stack: "data", path: "Database/Resource", rule: "AwsSolutions-RDS10", when: func(s Stage) bool { return !s.Cfg.Database.DeletionProtection },
			reason: "Non-production stages are torn down with a final snapshot (removalPolicy=snapshot); production has deletion protection."},
		suppression{stack: "data", path: "Cache", rule: "AwsSolutions-AEC4", when: func(s Stage) bool { return s.Cfg.Cache.Replicas == 0 },
			reason: "A single cache node by stage config (cache.replicas=0) on non-production; production runs a replica with Multi-AZ failover."},
	)
	return out
}

func computeSuppressions() []suppression {
	var out []suppression
	for _, task := range []string{"BackendTask", "FrontendTask"} {
		out = append(out,
			suppression{stack: "compute", path: task + "/Resource", rule: "AwsSolutions-ECS2",
				reason: "Only non-secret settings are plain environment, by the app's contract (system-facts section 5); every secret is an ECS secret from Secrets Manager (tested by TestBlocker5)."},
			suppression{stack: "compute", path: task + "/ExecutionRole/DefaultPolicy/Resource", rule: "AwsSolutions-IAM5", appliesTo: []string{"Resource::*"},
				reason: "ecr:GetAuthorizationToken has no resource-level permissions; image pulls and secret reads are scoped to the stage's repositories and secrets."},
			suppression{stack: "compute", path: task + "/TaskRole/DefaultPolicy/Resource", rule: "AwsSolutions-IAM5", appliesTo: []string{"Resource::*"},
				reason: "ECS Exec's ssmmessages channel actions and cloudwatch:PutMetricData have no resource-level permissions; PutMetricData is limited to the ComfyUI/Workers namespace by condition."},
		)
	}
	out = append(out, suppression{stack: "compute", path: "BackendTask/TaskRole/DefaultPolicy/Resource", rule: "AwsSolutions-IAM5",
		appliesTo: []string{"Resource::<ComfyLogsBucket4D605A1A.Arn>/*", "Resource::<MediaBucketBCBB02BA.Arn>/*", "Resource::<ModelsBucketA3610ED4.Arn>/*"},
		reason:    "The app reads and writes any object of its own media, models and ComfyUI-logs buckets (user uploads, model assets, job logs), with object actions only."})
	return out
}

func gpuFleetSuppressions() []suppression {
	// Every per-fleet construct lives below "Fleets/<slug>"; the suppressions
	// below name that subtree because slugs come from config.
	const fleets = "Fleets"
	describeStar := "autoscaling:DescribeAutoScalingGroups has no resource-level permissions, so it needs *. "
	tagged := "The write actions on * are limited by conditions to ASGs tagged Stage=<this stage> and FleetSlug in this stage's fleets (ASG ARNs carry a random id unknown at synth); the handler also checks the Stage tag before acting."
	out := []suppression{
		{stack: "gpu-fleet", path: fleets, rule: "AwsSolutions-IAM5", appliesTo: []string{"Resource::*"},
			reason: "GPU worker role: cloudwatch:PutMetricData has no resource-level permissions and is limited to the ComfyUI/Workers namespace by condition; " +
				"autoscaling:SetInstanceProtection is limited to the fleet's own ASG by its Stage and FleetSlug tags (the ASG ARN carries a random id); " +
				"the Session Manager channel actions (ssm:UpdateInstanceInformation, ssmmessages:*Channel, ec2messages:*) support no resource scoping. No SSH."},
		{stack: "gpu-fleet", path: fleets, rule: "AwsSolutions-IAM5",
			appliesTo: []string{"Resource::<ModelsBucketA3610ED4.Arn>/assets/*", "Resource::<ModelsBucketA3610ED4.Arn>/bundles/*"},
			reason:    "GPU workers read (s3:GetObject only) the content-addressed model assets and bundle manifests of the models bucket; which objects a job needs is known only at run time. Nothing else in the bucket is readable."},
		{stack: "gpu-fleet", path: fleets, rule: "AwsSolutions-AS3",
			reason: "Launch and terminate errors notify the alerts topic; routine launch/terminate events of a fleet that scales 0 -> N -> 0 all day would page people for nothing and are visible in the ASG activity history and group metrics."},
		{stack: "gpu-fleet", path: fleets, rule: "CdkNagValidationFailure", appliesTo: []string{"AwsSolutions-EC26"},
			reason: "EC26 cannot resolve the launch template of a mixed-instances ASG; the launch template's only volume is an encrypted gp3 root volume, asserted by TestGpuFleetLaunchTemplate."},
		{stack: "gpu-fleet", path: scaleToZeroFunctionID + "Role/DefaultPolicy/Resource", rule: "AwsSolutions-IAM5", appliesTo: []string{"Resource::*"},
			reason: describeStar + "autoscaling:SetDesiredCapacity: " + tagged},
		{stack: "gpu-fleet", path: reaperFunctionID + "Role/DefaultPolicy/Resource", rule: "AwsSolutions-IAM5", appliesTo: []string{"Resource::*"},
			reason: describeStar + "cloudwatch:GetMetricData has no resource-level permissions (read-only). autoscaling:SetInstanceProtection: " + tagged},
		{stack: "gpu-fleet", path: reaperFunctionID + "Role/DefaultPolicy/Resource", rule: "AwsSolutions-IAM5", appliesTo: []string{"Action::kms:GenerateDataKey*"},
			reason: "Publishing to the KMS-encrypted alerts topic needs the kms:GenerateDataKey* family; the grant is on the alerts topic's key only (CDK Topic.grantPublish)."},
		{stack: "gpu-fleet", path: protectionReleaseFunction + "Role/DefaultPolicy/Resource", rule: "AwsSolutions-IAM5", appliesTo: []string{"Resource::*"},
			reason: describeStar + "autoscaling:SetInstanceProtection (cleared only on stack deletion): " + tagged},
	}
	return out
}

func observabilitySuppressions() []suppression { return nil }

// applyNagSuppressions attaches the reviewed suppressions; a path that no
// longer exists fails synthesis, so stale entries cannot linger.
func applyNagSuppressions(s Stage) {
	for _, sup := range reviewedSuppressions() {
		if sup.when != nil && !sup.when(s) {
			continue
		}
		stack := s.stackByKind(sup.stack)
		entry := &cdknag.NagPackSuppression{Id: jsii.String(sup.rule), Reason: jsii.String(sup.reason)}
		if len(sup.appliesTo) > 0 {
			applies := make([]interface{}, len(sup.appliesTo))
			for i, a := range sup.appliesTo {
				applies[i] = a
			}
			entry.AppliesTo = &applies
		}
		cdknag.NagSuppressions_AddResourceSuppressionsByPath(stack, jsii.String("/"+*stack.Node().Path()+"/"+sup.path),
			&[]*cdknag.NagPackSuppression{entry}, jsii.Bool(true))
	}
}
