package compute

import (
	"strconv"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2/awsecs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/jsii-runtime-go"
	"github.com/bp/infra/stacks/network"
)

// backendEnvironment is the plain environment of php-fpm, scheduler and
// queue-worker, name for name as the Laravel app reads it (system-facts
// section 5). Nothing secret is here.
func backendEnvironment(p Props) map[string]*string {
	cfg := p.Cfg
	d := p.Data
	env := map[string]*string{
		"APP_ENV": jsii.String(cfg.Stage),
		// Never true behind a public ALB: Laravel's debug pages print the
		// environment, injected secrets included.
		"APP_DEBUG":                 jsii.String("false"),
		"APP_URL":                   jsii.String(cfg.APIBaseURL()),
		"LOG_CHANNEL":               jsii.String("stderr"),
		"LOG_LEVEL":                 jsii.String(cfg.LogLevel),
		"DB_CONNECTION":             jsii.String("central"),
		"CENTRAL_DB_DRIVER":         jsii.String("mariadb"),
		"CENTRAL_DB_PORT":           jsii.String(strconv.Itoa(network.DatabasePort)),
		"CENTRAL_DB_DATABASE":       jsii.String("bp"),
		"TENANT_POOL_1_DB_DRIVER":   jsii.String("mariadb"),
		"TENANT_POOL_1_DB_DATABASE": jsii.String("tenant_pool_1"),
		"TENANT_POOL_2_DB_DRIVER":   jsii.String("mariadb"),
		"TENANT_POOL_2_DB_DATABASE": jsii.String("tenant_pool_2"),
		// The database requires TLS; PDO verifies its certificate against the
		// RDS CAs the rds-ca-init container writes there.
		"MYSQL_ATTR_SSL_CA":     jsii.String(RdsCaFile),
		"REDIS_HOST":            d.CacheHost,
		"REDIS_PORT":            d.CachePort,
		"REDIS_SCHEME":          jsii.String("tls"), // the cache requires TLS in transit
		"CACHE_STORE":           jsii.String("redis"),
		"SESSION_DRIVER":        jsii.String("redis"),
		"QUEUE_CONNECTION":      jsii.String("database"),
		"FILESYSTEM_DISK":       jsii.String("s3"),
		"AWS_DEFAULT_REGION":    jsii.String(cfg.Region),
		"AWS_BUCKET":            d.MediaBucket.BucketName(),
		"AWS_URL":               jsii.String("https://" + *d.MediaDomain),
		"COMFYUI_AWS_REGION":    jsii.String(cfg.Region),
		"COMFYUI_MODELS_BUCKET": d.ModelsBucket.BucketName(),
		"COMFYUI_MODELS_DISK":   jsii.String("comfyui_models"),
		"COMFYUI_LOGS_BUCKET":   d.ComfyLogsBucket.BucketName(),
		"COMFYUI_LOGS_DISK":     jsii.String("comfyui_logs"),
	}
	return env
}

// backendSecrets are injected by ECS from Secrets Manager at task start, never
// as plain environment (review blocker 5: APP_KEY and COMFYUI_FLEET_SECRET were
// never injected). One application user serves all three connections.
func backendSecrets(p Props) map[string]awsecs.Secret {
	d := p.Data
	field := func(s awssecretsmanager.ISecret, f string) awsecs.Secret {
		return awsecs.Secret_FromSecretsManager(s, jsii.String(f))
	}
	secrets := map[string]awsecs.Secret{
		"APP_KEY":                  awsecs.Secret_FromSecretsManager(d.AppKeySecret, nil),
		"COMFYUI_FLEET_SECRET":     awsecs.Secret_FromSecretsManager(d.FleetSecret, nil),
		"COMFYUI_ASSET_OPS_SECRET": awsecs.Secret_FromSecretsManager(d.AssetOpsSecret, nil),
		"REDIS_PASSWORD":           awsecs.Secret_FromSecretsManager(d.CacheAuthSecret, nil),
	}
	for _, prefix := range DbConnectionPrefixes {
		secrets[prefix+"HOST"] = field(d.DbAppSecret, "host")
		secrets[prefix+"USERNAME"] = field(d.DbAppSecret, "username")
		secrets[prefix+"PASSWORD"] = field(d.DbAppSecret, "password")
	}
	return secrets
}

// DbConnectionPrefixes are the Laravel connections, each reading
// <prefix>HOST, <prefix>USERNAME and <prefix>PASSWORD.
var DbConnectionPrefixes = []string{"CENTRAL_DB_", "TENANT_POOL_1_DB_", "TENANT_POOL_2_DB_"}

// frontendEnvironment is the nextjs container's environment.
func frontendEnvironment(p Props) map[string]*string {
	api := strings.TrimSuffix(p.Cfg.APIBaseURL(), "/") + "/api"
	return map[string]*string{
		// Fargate sets HOSTNAME to the task's own host name, and the standalone
		// Next.js server listens on HOSTNAME: it would bind only the task's
		// interface, so the 127.0.0.1 health check fails (vercel/next.js#58657).
		"HOSTNAME":                 jsii.String("0.0.0.0"),
		"NODE_ENV":                 jsii.String("production"),
		"NEXT_PUBLIC_API_BASE_URL": jsii.String(api),
		"NEXT_PUBLIC_API_URL":      jsii.String(api),
	}
}
