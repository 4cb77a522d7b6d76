package data

import (
	"maps"
	"slices"

	"github.com/bp/infra/config"
	"github.com/bp/infra/stacks/base"
)

// suppressions are the Data stack's reviewed cdk-nag exceptions.
func suppressions() []base.Suppression {
	out := []base.Suppression{base.LambdaInVpc("DbInitFunction")}
	// The master password is RDS-managed and rotates by itself (every 7 days);
	// these are read by running tasks or workers at start, so a scheduled
	// rotation would cut them off: each has a runbook in docs/runbooks/.
	rotation := map[string]string{
		"AppKeySecret/Resource":    "APP_KEY encrypts Laravel sessions and encrypted columns: rotating it means re-encrypting with the old key still in APP_PREVIOUS_KEYS, a planned change (docs/runbooks/rotate-app-key.md), never a schedule.",
		"FleetSecret/Resource":     "COMFYUI_FLEET_SECRET is read by the backend at task start and by each GPU worker at boot; a scheduled rotation would lock out the running side. Rotated so both sides change together (docs/runbooks/rotate-fleet-secret.md).",
		"AssetOpsSecret/Resource":  "COMFYUI_ASSET_OPS_SECRET is shared with the asset pipeline outside this app, which must change with it (docs/runbooks/rotate-asset-ops-secret.md).",
		"CacheAuthSecret/Resource": "The cache AUTH token is injected into tasks at start; it rotates with ElastiCache's two-token ROTATE then SET, around a backend redeploy (docs/runbooks/rotate-cache-auth-token.md).",
		"DbAppSecret/Resource":     "ECS injects the app user's password at task start; it rotates by a new secret value, database.appUserSyncToken (DB-init re-applies it) and a backend redeploy (docs/runbooks/rotate-db-app-user.md).",
	}
	for _, path := range slices.Sorted(maps.Keys(rotation)) {
		out = append(out, base.Suppression{Path: path, Rule: "AwsSolutions-SMG4", Reason: rotation[path]})
	}
	noCustomCdnDomain := func(c config.Stage) bool { return c.Media.CdnDomainName == "" }
	out = append(out,
		base.Suppression{Path: "MediaCdn/Resource", Rule: "AwsSolutions-CFR1",
			Reason: "Media is served to a worldwide audience; there is no country the product excludes."},
		base.Suppression{Path: "MediaCdn/Resource", Rule: "AwsSolutions-CFR2", When: func(c config.Stage) bool { return c.Media.WafRequestsPer5Min == 0 },
			Reason: "The distribution serves immutable media objects read-only through OAC (GET, HEAD, and OPTIONS for CORS preflight); a per-IP rate-limiting web ACL is media.wafRequestsPer5Min, off by default ($6/month + $0.60 per million requests) because egress spikes are already caught by the CloudFront bytes alarm and the budget."},
		base.Suppression{Path: "MediaCdn/Resource", Rule: "AwsSolutions-CFR4", When: noCustomCdnDomain,
			Reason: "Only a non-production stage can lack media.cdnDomainName (production requires it): it then serves test media on the default *.cloudfront.net certificate, whose minimum protocol CloudFront fixes at TLSv1; setting media.cdnDomainName and media.cdnCertificateArn (us-east-1) on the stage enforces TLSv1.2_2021 as in production."},
		base.Suppression{Path: "Database/Resource", Rule: "AwsSolutions-RDS11",
			Reason: "The Laravel app and CI/CD use CENTRAL_DB_PORT=3306 (system-facts section 5); the database is in isolated subnets reachable only from the backend and DB-init groups."},
		base.Suppression{Path: "Database/Resource", Rule: "AwsSolutions-RDS3", When: func(c config.Stage) bool { return !c.Database.MultiAz },
			Reason: "Single-AZ by stage config (database.multiAz=false) to keep non-production cost down; production is Multi-AZ."},
		base.Suppression{Path: "Database/Resource", Rule: "AwsSolutions-RDS10", When: func(c config.Stage) bool { return !c.Database.DeletionProtection },
			Reason: "Non-production stages are torn down with a final snapshot (removalPolicy=snapshot); production has deletion protection."},
		base.Suppression{Path: "AmiBuildRole/DefaultPolicy/Resource", Rule: "AwsSolutions-IAM5",
			AppliesTo: []string{"Resource::<ModelsBucketA3610ED4.Arn>/assets/*", "Resource::<ModelsBucketA3610ED4.Arn>/bundles/*"},
			Reason:    "The AMI build bakes the fleet's active bundle: it reads (s3:GetObject only) the bundle's manifest and its content-addressed assets, which are known only when the build runs."},
		base.Suppression{Path: "Cache", Rule: "AwsSolutions-AEC4", When: func(c config.Stage) bool { return c.Cache.Replicas == 0 },
			Reason: "A single cache node by stage config (cache.replicas=0) on non-production; production runs a replica with Multi-AZ failover."},
	)
	return out
}
