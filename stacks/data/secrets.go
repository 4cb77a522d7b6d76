package data

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/jsii-runtime-go"
)

// Secret keys under /<app>/<stage>/secrets/.
const (
	SecretAppKey    = "app-key"
	SecretFleet     = "comfyui-fleet-secret"
	SecretAssetOps  = "comfyui-asset-ops-secret"
	SecretCacheAuth = "cache-auth-token"
	SecretDbApp     = "db-app-user"
)

// generated defines a secret whose value Secrets Manager generates at deploy
// time: nothing secret is ever in a template.
func generated(stack awscdk.Stack, p Props, id, name, description string, length int) awssecretsmanager.Secret {
	return awssecretsmanager.NewSecret(stack, jsii.String(id), &awssecretsmanager.SecretProps{
		SecretName:    jsii.String(name),
		Description:   jsii.String(description),
		RemovalPolicy: removal(p.Cfg), // production keeps APP_KEY: without it encrypted data is lost
		GenerateSecretString: &awssecretsmanager.SecretStringGenerator{
			PasswordLength:     jsii.Number(float64(length)),
			ExcludePunctuation: jsii.Bool(true),
			IncludeSpace:       jsii.Bool(false),
		},
	})
}

func addAppSecrets(stack awscdk.Stack, p Props, d *Data) {
	n := p.Names
	// Laravel accepts a raw 32-character key for AES-256-CBC.
	d.AppKeySecret = generated(stack, p, "AppKeySecret", n.Secret(SecretAppKey), "Laravel APP_KEY (32 characters)", 32)
	d.FleetSecret = generated(stack, p, "FleetSecret", n.Secret(SecretFleet), "COMFYUI_FLEET_SECRET: GPU workers send it to register", 48)
	d.AssetOpsSecret = generated(stack, p, "AssetOpsSecret", n.Secret(SecretAssetOps), "COMFYUI_ASSET_OPS_SECRET for the asset pipeline", 48)
	// ElastiCache AUTH tokens allow 16-128 printable characters; alphanumerics avoid the forbidden ones.
	d.CacheAuthSecret = generated(stack, p, "CacheAuthSecret", n.Secret(SecretCacheAuth), "Redis AUTH token (REDIS_PASSWORD)", 64)
	d.DbAppSecret = awssecretsmanager.NewSecret(stack, jsii.String("DbAppSecret"), &awssecretsmanager.SecretProps{
		SecretName:    jsii.String(n.Secret(SecretDbApp)),
		Description:   jsii.String("MariaDB application user of bp, tenant_pool_1 and tenant_pool_2"),
		RemovalPolicy: removal(p.Cfg),
		GenerateSecretString: &awssecretsmanager.SecretStringGenerator{
			SecretStringTemplate: jsii.String(`{"username":"` + p.Cfg.Database.AppUsername + `"}`),
			GenerateStringKey:    jsii.String("password"),
			PasswordLength:       jsii.Number(32),
			ExcludePunctuation:   jsii.Bool(true),
		},
	})
}
