package test

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestBlocker6_DbInitCanRunAndReachItsDependencies: the DB-init custom resource
// is a Go binary on provided.al2023 (no pymysql to package), in its own group
// that may reach MariaDB, Secrets Manager and the CloudFormation response URL;
// the database admits it. The old Lambda sat in the RDS group with no egress.
func TestBlocker6_DbInitCanRunAndReachItsDependencies(t *testing.T) {
	for _, b := range all() {
		data, net := b.templates["data"], b.templates["network"]
		cr := data.One(t, "Custom::DbInit")
		fnID := str(get(cr.Props, "ServiceToken.Fn::GetAtt.0"))
		var fn Resource
		for _, r := range data.Resources("AWS::Lambda::Function") {
			if r.LogicalID == fnID {
				fn = r
			}
		}
		if fn.Props["Runtime"] != "provided.al2023" || fn.Props["Handler"] != "bootstrap" || str(fn.Props["Architectures"]) != `["arm64"]` {
			t.Fatalf("%s: DB-init function = %v", b.label, fn.Props)
		}
		if str(cr.Props["Databases"]) != `["bp","tenant_pool_1","tenant_pool_2"]` || cr.Props["Charset"] != "utf8mb4" || cr.Props["Collation"] != "utf8mb4_unicode_ci" {
			t.Errorf("%s: DB-init properties = %v", b.label, cr.Props)
		}
		sgs := str(get(fn.Props, "VpcConfig.SecurityGroupIds"))
		if !strings.Contains(sgs, "DbInitSg") || strings.Contains(sgs, "DatabaseSg") {
			t.Errorf("%s: DB-init must run in its own group, got %s", b.label, sgs)
		}
		dbInit := sgEgress(net, "DbInitSg")
		for _, want := range []string{"tcp:3306->DatabaseSg", "tcp:443->pl-"} {
			if !containsPrefix(dbInit, want) {
				t.Errorf("%s: DB-init egress %v lacks %s", b.label, dbInit, want)
			}
		}
		// Secrets Manager through its endpoint when there is one, else through NAT.
		viaEndpoint := slices.Contains(b.stage.Cfg.Network.InterfaceEndpoints, "secretsmanager")
		if viaEndpoint != containsPrefix(dbInit, "tcp:443->EndpointsSg") || viaEndpoint == containsPrefix(dbInit, "tcp:443->0.0.0.0/0") {
			t.Errorf("%s: DB-init Secrets Manager path %v does not follow interfaceEndpoints %v", b.label, dbInit, b.stage.Cfg.Network.InterfaceEndpoints)
		}
		if !containsPrefix(sgIngress(net, "DatabaseSg"), "tcp:3306<-DbInitSg") {
			t.Errorf("%s: the database group does not admit DB-init: %v", b.label, sgIngress(net, "DatabaseSg"))
		}
		if cr.Raw["DeletionPolicy"] != "Retain" {
			t.Errorf("%s: deleting the stack must never reach DB-init's delete path", b.label)
		}
	}
}

// TestDatabaseIsEncryptedBoundedAndPerStage covers the review's gap (storage
// encryption suppressed) and cost risks (unbounded storage, PI everywhere).
func TestDatabaseIsEncryptedBoundedAndPerStage(t *testing.T) {
	for _, name := range []string{"staging", "production"} {
		b := stages[name]
		cfg := b.stage.Cfg.Database
		db := b.templates["data"].One(t, "AWS::RDS::DBInstance")
		p := db.Props
		checks := map[string][2]any{
			"Engine":                {p["Engine"], "mariadb"},
			"EngineVersion":         {p["EngineVersion"], cfg.EngineVersion},
			"StorageEncrypted":      {p["StorageEncrypted"], true},
			"StorageType":           {p["StorageType"], "gp3"},
			"AllocatedStorage":      {p["AllocatedStorage"], "20"},
			"MaxAllocatedStorage":   {p["MaxAllocatedStorage"], 100.0},
			"BackupRetentionPeriod": {p["BackupRetentionPeriod"], 7.0},
			"MultiAZ":               {p["MultiAZ"], cfg.MultiAz},
			"DeletionProtection":    {p["DeletionProtection"], cfg.DeletionProtection},
			"DBInstanceClass":       {p["DBInstanceClass"], cfg.InstanceClass},
			"PubliclyAccessible":    {p["PubliclyAccessible"], false},
			"Logs":                  {str(p["EnableCloudwatchLogsExports"]), `["audit","error","slowquery"]`},
		}
		for k, c := range checks {
			if !equalJSON(c[0], c[1]) {
				t.Errorf("%s: %s = %v, want %v", name, k, c[0], c[1])
			}
		}
		if !strings.Contains(str(p["KmsKeyId"]), "DatabaseKey") {
			t.Errorf("%s: storage not encrypted with the customer-managed key: %v", name, p["KmsKeyId"])
		}
		if (p["EnablePerformanceInsights"] == true) != cfg.PerformanceInsights {
			t.Errorf("%s: Performance Insights = %v, config %v", name, p["EnablePerformanceInsights"], cfg.PerformanceInsights)
		}
		wantPolicy := map[string]string{"snapshot": "Snapshot", "retain": "Retain"}[cfg.RemovalPolicy]
		if db.Raw["DeletionPolicy"] != wantPolicy {
			t.Errorf("%s: DeletionPolicy = %v, want %s", name, db.Raw["DeletionPolicy"], wantPolicy)
		}
		params := b.templates["data"].One(t, "AWS::RDS::DBParameterGroup").Props["Parameters"].(map[string]any)
		if params["character_set_server"] != "utf8mb4" || params["collation_server"] != "utf8mb4_unicode_ci" || params["max_connections"] != "150" {
			t.Errorf("%s: parameters = %v", name, params)
		}
		for _, log := range []string{"error", "slowquery"} {
			lg := b.templates["data"].Where("AWS::Logs::LogGroup", "LogGroupName", "/aws/rds/instance/"+b.stage.Names.Resource("db")+"/"+log)
			if len(lg) != 1 || num(lg[0].Props["RetentionInDays"]) != float64(b.stage.Cfg.LogRetentionDays) {
				t.Errorf("%s: %s log export group missing or without retention", name, log)
			}
		}
	}
}

// TestSecretsAreGeneratedNeverPlaintext: every app secret is generated by
// Secrets Manager and named per stage.
func TestSecretsAreGeneratedNeverPlaintext(t *testing.T) {
	for _, name := range []string{"staging", "production"} {
		b := stages[name]
		secrets := b.templates["data"].Resources("AWS::SecretsManager::Secret")
		if len(secrets) != 5 {
			t.Errorf("%s: %d secrets, want 5 (app key, fleet, asset ops, cache token, db app; RDS owns the master secret)", name, len(secrets))
		}
		for _, s := range secrets {
			if _, plain := s.Props["SecretString"]; plain || s.Props["GenerateSecretString"] == nil {
				t.Errorf("%s: secret %s is not generated", name, s.LogicalID)
			}
			if !strings.HasPrefix(str(s.Props["Name"]), "/bp/"+name+"/") {
				t.Errorf("%s: secret %s named %v", name, s.LogicalID, s.Props["Name"])
			}
		}
		appKey := b.templates["data"].Where("AWS::SecretsManager::Secret", "Name", b.stage.Names.Secret("app-key"))[0]
		if num(get(appKey.Props, "GenerateSecretString.PasswordLength")) != 32 {
			t.Errorf("%s: APP_KEY must be 32 characters for Laravel", name)
		}
	}
}

// TestCacheIsEncryptedAndAuthenticated: TLS, at-rest encryption, AUTH token by
// dynamic reference, private subnets, backend-only group.
func TestCacheIsEncryptedAndAuthenticated(t *testing.T) {
	for _, name := range []string{"staging", "production"} {
		b := stages[name]
		rg := b.templates["data"].One(t, "AWS::ElastiCache::ReplicationGroup").Props
		if rg["TransitEncryptionEnabled"] != true || rg["AtRestEncryptionEnabled"] != true || !strings.Contains(str(rg["AuthToken"]), "resolve:secretsmanager") {
			t.Errorf("%s: cache = %v", name, str(rg))
		}
		if rg["CacheNodeType"] != b.stage.Cfg.Cache.NodeType {
			t.Errorf("%s: node type = %v", name, rg["CacheNodeType"])
		}
		if got := sgIngress(b.templates["network"], "CacheSg"); len(got) != 1 || !containsPrefix(got, "tcp:6379<-BackendSg") {
			t.Errorf("%s: cache reachable from %v, want the backend only", name, got)
		}
	}
}

// TestBucketsArePrivateEncryptedAndLogged and their lifecycles.
func TestBucketsArePrivateEncryptedAndLogged(t *testing.T) {
	for _, name := range []string{"staging", "production"} {
		b := stages[name]
		data := b.templates["data"]
		buckets := data.Resources("AWS::S3::Bucket")
		if len(buckets) != 4 {
			t.Fatalf("%s: %d buckets, want media, models, comfyui-logs, access-logs", name, len(buckets))
		}
		for _, bk := range buckets {
			p := bk.Props
			if str(p["PublicAccessBlockConfiguration"]) != `{"BlockPublicAcls":true,"BlockPublicPolicy":true,"IgnorePublicAcls":true,"RestrictPublicBuckets":true}` {
				t.Errorf("%s/%s: public access not blocked", name, bk.LogicalID)
			}
			if p["BucketEncryption"] == nil {
				t.Errorf("%s/%s: not encrypted", name, bk.LogicalID)
			}
			if !strings.Contains(str(p["BucketName"]), "access-logs") && p["LoggingConfiguration"] == nil {
				t.Errorf("%s/%s: not access-logged", name, bk.LogicalID)
			}
			want := map[bool]string{true: "Retain", false: "Delete"}[name == "production"]
			if bk.Raw["DeletionPolicy"] != want {
				t.Errorf("%s/%s: DeletionPolicy %v, want %s", name, bk.LogicalID, bk.Raw["DeletionPolicy"], want)
			}
		}
		for _, pol := range data.Resources("AWS::S3::BucketPolicy") {
			if !strings.Contains(str(pol.Props), `"aws:SecureTransport":"false"`) {
				t.Errorf("%s/%s: SSL not enforced", name, pol.LogicalID)
			}
		}
		media := data.Where("AWS::S3::Bucket", "BucketName", b.stage.Names.Bucket("media", b.stage.Cfg.Account))[0].Props
		if !strings.Contains(str(media["CorsConfiguration"]), "https://"+b.stage.Cfg.DomainName) || !strings.Contains(str(media["CorsConfiguration"]), "PUT") {
			t.Errorf("%s: media CORS = %s", name, str(media["CorsConfiguration"]))
		}
		rules := str(media["LifecycleConfiguration"])
		for _, want := range []string{"AbortIncompleteMultipartUpload", "STANDARD_IA", "GLACIER_IR"} {
			if !strings.Contains(rules, want) {
				t.Errorf("%s: media lifecycle lacks %s: %s", name, want, rules)
			}
		}
		models := data.Where("AWS::S3::Bucket", "BucketName", b.stage.Names.Bucket("models", b.stage.Cfg.Account))[0].Props
		if get(models, "VersioningConfiguration.Status") != "Enabled" || !strings.Contains(str(models["LifecycleConfiguration"]), "NoncurrentVersionExpiration") {
			t.Errorf("%s: models bucket must be versioned with old versions expiring", name)
		}
		for _, what := range []string{"comfyui-logs", "access-logs"} {
			lc := str(data.Where("AWS::S3::Bucket", "BucketName", b.stage.Names.Bucket(what, b.stage.Cfg.Account))[0].Props["LifecycleConfiguration"])
			if !strings.Contains(lc, `"ExpirationInDays":90`) || !strings.Contains(lc, `"StorageClass":"STANDARD_IA","TransitionInDays":30`) {
				t.Errorf("%s: %s lifecycle = %s", name, what, lc)
			}
		}
	}
}

// TestMediaCdnUsesOacHttpsAndLongTtls: OAC (not OAI), HTTPS only, HTTP/2 and
// HTTP/3, logging, price class from config, long-TTL compressed cache policy.
func TestMediaCdnUsesOacHttpsAndLongTtls(t *testing.T) {
	b := stages["production"]
	data := b.templates["data"]
	dist := data.One(t, "AWS::CloudFront::Distribution").Props["DistributionConfig"].(map[string]any)
	if get(dist, "DefaultCacheBehavior.ViewerProtocolPolicy") != "https-only" || dist["HttpVersion"] != "http2and3" ||
		dist["PriceClass"] != b.stage.Cfg.Media.PriceClass || dist["Logging"] == nil {
		t.Errorf("distribution = %s", str(dist))
	}
	if len(data.Resources("AWS::CloudFront::OriginAccessControl")) != 1 || len(data.Resources("AWS::CloudFront::CloudFrontOriginAccessIdentity")) != 0 {
		t.Errorf("media must be served through origin access control")
	}
	policy := data.One(t, "AWS::CloudFront::CachePolicy").Props["CachePolicyConfig"].(map[string]any)
	if num(policy["DefaultTTL"]) < 86400 || get(policy, "ParametersInCacheKeyAndForwardedToOrigin.EnableAcceptEncodingBrotli") != true {
		t.Errorf("cache policy = %s", str(policy))
	}
}

// TestEcrRepositoriesScanAndExpire.
func TestEcrRepositoriesScanAndExpire(t *testing.T) {
	for _, r := range stages["staging"].templates["data"].Resources("AWS::ECR::Repository") {
		if get(r.Props, "ImageScanningConfiguration.ScanOnPush") != true || !strings.Contains(str(r.Props["LifecyclePolicy"]), "imageCountMoreThan") {
			t.Errorf("%s: %s", r.LogicalID, str(r.Props))
		}
	}
}

// TestStatefulLogicalIDsArePinned: a refactor must not rename (and so replace)
// the database, buckets, secrets, repositories, cache or keys.
func TestStatefulLogicalIDsArePinned(t *testing.T) {
	for _, name := range []string{"staging", "production"} {
		data := stages[name].templates["data"]
		for typ, want := range pinnedIDs {
			var got []string
			for _, r := range data.Resources(typ) {
				got = append(got, r.LogicalID)
			}
			if strings.Join(got, ",") != strings.Join(want, ",") {
				t.Errorf("%s %s: logical ids %v, pinned %v", name, typ, got, want)
			}
		}
	}
}

// TestAmiBuildProfileIsTheOnePackerUses: `make ami-build STAGE=<stage>`
// builds with packer/vars/<stage>-<slug>.pkrvars.hcl, whose instance_profile
// must be the profile the data stack creates for the build instance.
func TestAmiBuildProfileIsTheOnePackerUses(t *testing.T) {
	for _, name := range []string{"staging", "production"} {
		b := stages[name]
		profile := str(b.templates["data"].One(t, "AWS::IAM::InstanceProfile").Props["InstanceProfileName"])
		for _, f := range b.stage.Cfg.Fleets {
			path := filepath.Join("..", "packer", "vars", name+"-"+f.Slug+".pkrvars.hcl")
			raw, err := os.ReadFile(path)
			if err != nil {
				t.Errorf("%s: fleet %s has no Packer var file: %v", name, f.Slug, err)
				continue
			}
			m := regexp.MustCompile(`(?m)^instance_profile\s*=\s*"([^"]*)"`).FindSubmatch(raw)
			if m == nil || string(m[1]) != profile {
				t.Errorf("%s: instance_profile in %s is %q, want the data stack's %q", name, path, m, profile)
			}
		}
	}
}

// TestMediaCdnServesTLS12WhereItCan: with a custom domain the media
// distribution uses its ACM certificate over SNI with the TLSv1.2_2021
// policy. Without one it uses the *.cloudfront.net certificate, for which
// "CloudFront automatically sets the security policy to TLSv1 regardless of
// the value that you set here" (ViewerCertificate, CloudFront API reference),
// so no policy is set (CDK warns that it would be ignored), and only a
// non-production stage may do so.
func TestMediaCdnServesTLS12WhereItCan(t *testing.T) {
	custom := 0
	for _, b := range all() {
		cdn := b.templates["data"].One(t, "AWS::CloudFront::Distribution")
		vc, _ := get(cdn.Props, "DistributionConfig.ViewerCertificate").(map[string]any)
		aliases := str(get(cdn.Props, "DistributionConfig.Aliases"))
		if b.stage.Cfg.Media.CdnDomainName == "" {
			// CDK leaves ViewerCertificate out then, which CloudFront takes
			// as CloudFrontDefaultCertificate.
			if (vc != nil && vc["CloudFrontDefaultCertificate"] != true) || vc["MinimumProtocolVersion"] != nil {
				t.Errorf("%s: no custom domain, viewer certificate %v", b.label, vc)
			}
			if b.stage.Cfg.Stage == "production" {
				t.Errorf("%s: production media would be served with TLSv1", b.label)
			}
			continue
		}
		custom++
		if !strings.Contains(aliases, b.stage.Cfg.Media.CdnDomainName) || vc["AcmCertificateArn"] != b.stage.Cfg.Media.CdnCertificateArn ||
			vc["SslSupportMethod"] != "sni-only" || vc["MinimumProtocolVersion"] != "TLSv1.2_2021" {
			t.Errorf("%s: aliases %s, viewer certificate %v; want %s on its certificate, sni-only, TLSv1.2_2021", b.label, aliases, vc, b.stage.Cfg.Media.CdnDomainName)
		}
	}
	if custom == 0 {
		t.Fatal("no build has a media CDN domain")
	}
}
