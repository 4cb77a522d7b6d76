package data

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudfront"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecr"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsrds"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/constructs-go/constructs/v10"

	"github.com/bp/infra/config"
	"github.com/bp/infra/naming"
	"github.com/bp/infra/stacks/base"
	"github.com/bp/infra/stacks/network"
)

// Props configure the Data stack.
type Props struct {
	Cfg   config.Stage
	Names naming.Names
	Net   network.Network
}

// Data holds every stateful resource of a stage and the app's secrets. It is
// deployed before Compute so the pipeline can push images to its ECR
// repositories before any service starts.
type Data struct {
	Stack awscdk.Stack

	Database       awsrds.DatabaseInstance
	DbMasterSecret awssecretsmanager.ISecret
	// DbAppSecret holds the one application user of all three databases.
	DbAppSecret awssecretsmanager.ISecret

	AppKeySecret    awssecretsmanager.ISecret // APP_KEY
	FleetSecret     awssecretsmanager.ISecret // COMFYUI_FLEET_SECRET, shared with GPU workers
	AssetOpsSecret  awssecretsmanager.ISecret // COMFYUI_ASSET_OPS_SECRET
	CacheAuthSecret awssecretsmanager.ISecret // REDIS_PASSWORD

	CacheHost *string
	CachePort *string
	CacheID   string

	MediaBucket      awss3.IBucket
	ModelsBucket     awss3.IBucket
	ComfyLogsBucket  awss3.IBucket
	AccessLogsBucket awss3.IBucket
	MediaCdn         awscloudfront.IDistribution
	// MediaDomain is the host AWS_URL points at: the custom domain or CloudFront's.
	MediaDomain *string

	BackendRepo  awsecr.IRepository
	FrontendRepo awsecr.IRepository
}

// New builds the Data stack.
func New(scope constructs.Construct, p Props) Data {
	stack := base.NewStack(scope, p.Cfg, p.Names, naming.Data, "MariaDB, DB-init, cache, buckets, media CDN, ECR and the app's secrets")
	d := Data{Stack: stack}
	addAppSecrets(stack, p, &d)
	addBuckets(stack, p, &d)
	addMediaCdn(stack, p, &d)
	addRepositories(stack, p, &d)
	addDatabase(stack, p, &d)
	addDbInit(stack, p, &d)
	addCache(stack, p, &d)
	addAmiBuildProfile(p, &d)
	base.Finish(stack, p.Cfg, p.Names, suppressions())
	return d
}

// removal is RETAIN in production (and wherever the stage asks for it).
func removal(cfg config.Stage) awscdk.RemovalPolicy {
	if cfg.IsProduction() {
		return awscdk.RemovalPolicy_RETAIN
	}
	return awscdk.RemovalPolicy_DESTROY
}
