package gpufleet

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/bp/infra/bootcontract"
	"github.com/bp/infra/stacks/base"
)

// fleetAsgArns are the ARNs of the fleets' Auto Scaling groups:
// arn:<partition>:autoscaling:<region>:<account>:autoScalingGroup:<uuid>:autoScalingGroupName/<name>
// (Service Authorization Reference, Amazon EC2 Auto Scaling resource types);
// the uuid is random, so it is the only wildcard.
func fleetAsgArns(scope constructs.IConstruct, fleets ...Fleet) *[]*string {
	out := make([]*string, 0, len(fleets))
	for _, f := range fleets {
		out = append(out, awscdk.Stack_Of(scope).FormatArn(&awscdk.ArnComponents{
			Service: jsii.String("autoscaling"), Resource: jsii.String("autoScalingGroup"),
			ResourceName: jsii.String("*:autoScalingGroupName/" + f.AsgName), ArnFormat: awscdk.ArnFormat_COLON_RESOURCE_NAME,
		}))
	}
	return &out
}

// fleetTagConditions also require the fleets' Stage and FleetSlug tags, so a
// group of another stage that reused a name is never touched.
func fleetTagConditions(stage string, slugs ...string) *map[string]interface{} {
	return &map[string]interface{}{"StringEquals": map[string]interface{}{
		"autoscaling:ResourceTag/" + bootcontract.TagStage:     stage,
		"autoscaling:ResourceTag/" + bootcontract.TagFleetSlug: slugs,
	}}
}

// newWorkerRole is the GPU instance role: exactly what the worker, bundle sync
// and Session Manager call, for this stage and fleet only.
func newWorkerRole(scope constructs.Construct, p Props, f Fleet) awsiam.Role {
	role := awsiam.NewRole(scope, jsii.String("WorkerRole"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("ec2.amazonaws.com"), nil),
		Description: jsii.String("GPU workers of fleet " + f.Slug + " in stage " + p.Cfg.Stage),
	})
	logs := base.LogGroup(scope, "WorkerLogs", f.WorkerLogGroupName, p.Cfg.LogRetentionDays)
	add := func(actions []string, resources []*string, conditions *map[string]interface{}) {
		role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Actions: jsii.Strings(actions...), Resources: &resources, Conditions: conditions,
		}))
	}
	// The worker fetches the secret itself at start; user data holds its ARN only.
	add([]string{"secretsmanager:GetSecretValue"}, []*string{p.Data.FleetSecret.SecretArn()}, nil)
	add([]string{"ssm:GetParameter"}, []*string{base.SSMParameterArn(scope, p.Names.ActiveBundleParameter(f.Slug))}, nil)
	add([]string{"s3:GetObject"}, []*string{
		p.Data.ModelsBucket.ArnForObjects(jsii.String("assets/*")),
		p.Data.ModelsBucket.ArnForObjects(jsii.String("bundles/*")),
	}, nil)
	add([]string{"logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"}, []*string{logs.LogGroupArn()}, nil)
	// PutMetricData has no resource-level permissions; the namespace condition
	// is the limit: the stage's own worker namespace, never the backend's
	// ComfyUI/Workers that drives the scaling.
	add([]string{"cloudwatch:PutMetricData"}, []*string{jsii.String("*")}, &map[string]interface{}{
		"StringEquals": map[string]interface{}{"cloudwatch:namespace": bootcontract.WorkerMetricsNamespace(p.Cfg.AppPrefix, p.Cfg.Stage)},
	})
	// A worker protects itself while it holds a job and clears it when done.
	add([]string{"autoscaling:SetInstanceProtection"}, *fleetAsgArns(scope, f), fleetTagConditions(p.Cfg.Stage, f.Slug))
	// Session Manager access instead of SSH. The managed AmazonSSMManagedInstanceCore
	// would also grant ssm:GetParameter(s) on every parameter of the account.
	add([]string{"ssm:UpdateInstanceInformation", "ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel",
		"ssmmessages:OpenControlChannel", "ssmmessages:OpenDataChannel", "ec2messages:AcknowledgeMessage",
		"ec2messages:DeleteMessage", "ec2messages:FailMessage", "ec2messages:GetEndpoint", "ec2messages:GetMessages",
		"ec2messages:SendReply"}, []*string{jsii.String("*")}, nil)
	return role
}

// fleetMachineImage is the fleet's pinned AMI, or the AMI pipeline's SSM
// parameter resolved by EC2 at every launch (no lookup at synth, and a new
// AMI is used without a deploy).
func fleetMachineImage(p Props, f Fleet) awsec2.IMachineImage {
	if f.Cfg.AmiID != "" {
		return awsec2.MachineImage_GenericLinux(&map[string]*string{p.Cfg.Region: jsii.String(f.Cfg.AmiID)}, nil)
	}
	return awsec2.MachineImage_ResolveSsmParameterAtLaunch(jsii.String(f.Cfg.AmiParameter), &awsec2.SsmParameterImageOptions{
		Os: awsec2.OperatingSystemType_LINUX,
	})
}

// newLaunchTemplate: IMDSv2 only, encrypted gp3 root, no public IP, no key
// pair, the worker role, and the user data that writes the env file.
func newLaunchTemplate(scope constructs.Construct, p Props, f Fleet, role awsiam.IRole) awsec2.LaunchTemplate {
	return awsec2.NewLaunchTemplate(scope, jsii.String("LaunchTemplate"), &awsec2.LaunchTemplateProps{
		LaunchTemplateName:       jsii.String(f.LaunchTemplateName),
		MachineImage:             fleetMachineImage(p, f),
		UserData:                 awsec2.UserData_Custom(jsii.String(workerUserData(workerEnv(p, f), f.WorkerLogGroupName))),
		Role:                     role,
		SecurityGroup:            p.Net.SecurityGroups.GpuWorker,
		AssociatePublicIpAddress: jsii.Bool(false),
		RequireImdsv2:            jsii.Bool(true),
		HttpPutResponseHopLimit:  jsii.Number(1), // IMDS answers the instance itself, not a container or hop behind it
		BlockDevices: &[]*awsec2.BlockDevice{{
			DeviceName: jsii.String("/dev/sda1"), // Ubuntu's root device
			Volume: awsec2.BlockDeviceVolume_Ebs(jsii.Number(float64(f.Cfg.RootVolumeGb)), &awsec2.EbsDeviceOptions{
				Encrypted: jsii.Bool(true), VolumeType: awsec2.EbsDeviceVolumeType_GP3, DeleteOnTermination: jsii.Bool(true),
				VolumeInitializationRate: rootVolumeInitRate(f.Cfg),
			}),
		}},
	})
}
