package data

import (
	"strconv"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecr"
	"github.com/aws/jsii-runtime-go"
)

// addRepositories creates the repositories the pipeline pushes to
// (system-facts section 1: <app>-<service>-<stage>).
func addRepositories(stack awscdk.Stack, p Props, d *Data) {
	repo := func(id, svc string) awsecr.Repository {
		return awsecr.NewRepository(stack, jsii.String(id), &awsecr.RepositoryProps{
			RepositoryName:     jsii.String(p.Names.EcrRepository(svc)),
			ImageScanOnPush:    jsii.Bool(true),
			ImageTagMutability: awsecr.TagMutability_MUTABLE, // the pipeline moves the *-latest tags
			Encryption:         awsecr.RepositoryEncryption_AES_256(),
			RemovalPolicy:      removal(p.Cfg),
			EmptyOnDelete:      jsii.Bool(!p.Cfg.IsProduction()),
			LifecycleRules: &[]*awsecr.LifecycleRule{{
				Description:   jsii.String("Keep the last " + strconv.Itoa(p.Cfg.Ecr.KeepImages) + " images"),
				MaxImageCount: jsii.Number(float64(p.Cfg.Ecr.KeepImages)),
				TagStatus:     awsecr.TagStatus_ANY,
			}},
		})
	}
	d.BackendRepo = repo("BackendRepository", "backend")
	d.FrontendRepo = repo("FrontendRepository", "frontend")
}
