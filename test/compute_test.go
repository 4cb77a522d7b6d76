package test

import (
	"sort"
	"strings"
	"testing"

	"github.com/bp/infra/stacks/compute"
	"github.com/bp/infra/stacks/data"
)

// container returns one container definition of a task family.
func container(t *testing.T, tpl Template, family, name string) map[string]any {
	t.Helper()
	for _, td := range tpl.Where("AWS::ECS::TaskDefinition", "Family", family) {
		for _, c := range td.Props["ContainerDefinitions"].([]any) {
			cm := c.(map[string]any)
			if cm["Name"] == name {
				return cm
			}
		}
	}
	t.Fatalf("no container %s in family %s", name, family)
	return nil
}

func envNames(c map[string]any, key string) map[string]any {
	out := map[string]any{}
	list, _ := c[key].([]any)
	for _, e := range list {
		m := e.(map[string]any)
		if key == "Secrets" {
			out[str(m["Name"])] = m["ValueFrom"]
		} else {
			out[str(m["Name"])] = m["Value"]
		}
	}
	return out
}

// appSecretNames are exactly the secrets the Laravel app reads (system-facts section 5).
var appSecretNames = []string{"APP_KEY", "COMFYUI_FLEET_SECRET", "COMFYUI_ASSET_OPS_SECRET", "REDIS_PASSWORD",
	"CENTRAL_DB_HOST", "CENTRAL_DB_USERNAME", "CENTRAL_DB_PASSWORD",
	"TENANT_POOL_1_DB_HOST", "TENANT_POOL_1_DB_USERNAME", "TENANT_POOL_1_DB_PASSWORD",
	"TENANT_POOL_2_DB_HOST", "TENANT_POOL_2_DB_USERNAME", "TENANT_POOL_2_DB_PASSWORD"}

// secretLogicalID finds the Data stack's secret of a Secrets Manager name.
func secretLogicalID(t *testing.T, b *built, name string) string {
	t.Helper()
	for _, r := range b.templates["data"].Resources("AWS::SecretsManager::Secret") {
		if r.Props["Name"] == name {
			return r.LogicalID
		}
	}
	t.Fatalf("no secret named %s", name)
	return ""
}

// TestBlocker5_AppSecretsAreInjectedAsEcsSecrets: APP_KEY and
// COMFYUI_FLEET_SECRET (and every other secret) reach php-fpm, scheduler and
// queue-worker as ECS secrets from the right Secrets Manager secret, never as
// plain environment. The old stack created APP_KEY and never injected it.
func TestBlocker5_AppSecretsAreInjectedAsEcsSecrets(t *testing.T) {
	for _, name := range []string{"staging", "production"} {
		b := stages[name]
		family := b.stage.Names.Service("backend")
		wantSource := map[string]string{
			"APP_KEY":                  secretLogicalID(t, b, b.stage.Names.Secret(data.SecretAppKey)),
			"COMFYUI_FLEET_SECRET":     secretLogicalID(t, b, b.stage.Names.Secret(data.SecretFleet)),
			"COMFYUI_ASSET_OPS_SECRET": secretLogicalID(t, b, b.stage.Names.Secret(data.SecretAssetOps)),
			"REDIS_PASSWORD":           secretLogicalID(t, b, b.stage.Names.Secret(data.SecretCacheAuth)),
			"CENTRAL_DB_PASSWORD":      "DbAppSecretAttachment",
		}
		for _, cname := range []string{"php-fpm", "scheduler", "queue-worker"} {
			c := container(t, b.templates["compute"], family, cname)
			secrets, env := envNames(c, "Secrets"), envNames(c, "Environment")
			var got []string
			for k := range secrets {
				got = append(got, k)
			}
			sort.Strings(got)
			want := append([]string(nil), appSecretNames...)
			sort.Strings(want)
			if strings.Join(got, ",") != strings.Join(want, ",") {
				t.Errorf("%s/%s secrets = %v, want %v", name, cname, got, want)
			}
			for _, s := range appSecretNames {
				if _, plain := env[s]; plain {
					t.Errorf("%s/%s: %s is plain environment", name, cname, s)
				}
			}
			for secret, logicalID := range wantSource {
				if !strings.Contains(str(secrets[secret]), logicalID) {
					t.Errorf("%s/%s: %s comes from %s, want the data stack's %s", name, cname, secret, str(secrets[secret]), logicalID)
				}
			}
		}
	}
}

// TestExecutionRoleReadsExactlyTheInjectedSecrets: the task execution role may
// read the secrets the containers use, and no other.
func TestExecutionRoleReadsExactlyTheInjectedSecrets(t *testing.T) {
	for _, name := range []string{"staging", "production"} {
		tpl := stages[name].templates["compute"]
		for _, svc := range []string{"backend", "frontend"} {
			td := tpl.Where("AWS::ECS::TaskDefinition", "Family", stages[name].stage.Names.Service(svc))[0]
			role := str(get(td.Props, "ExecutionRoleArn.Fn::GetAtt.0"))
			injected := map[string]bool{}
			for _, c := range td.Props["ContainerDefinitions"].([]any) {
				for _, vf := range envNames(c.(map[string]any), "Secrets") {
					for _, imp := range importsIn(vf) {
						injected[imp] = true
					}
				}
			}
			granted := map[string]bool{}
			for _, pol := range tpl.Resources("AWS::IAM::Policy") {
				if !strings.Contains(str(pol.Props["Roles"]), role) {
					continue
				}
				for _, st := range get(pol.Props, "PolicyDocument.Statement").([]any) {
					if strings.Contains(str(get(st, "Action")), "secretsmanager:") {
						for _, imp := range importsIn(get(st, "Resource")) {
							granted[imp] = true
						}
					}
				}
			}
			if str(keys(injected)) != str(keys(granted)) {
				t.Errorf("%s/%s: execution role reads %v, containers inject %v", name, svc, keys(granted), keys(injected))
			}
		}
	}
}

// importsIn returns the cross-stack imports inside a value.
func importsIn(v any) []string {
	var out []string
	walk("", v, func(path string, x any) {
		if strings.HasSuffix(path, "Fn::ImportValue") {
			out = append(out, str(x))
		}
	})
	return out
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		if k != "" {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// TestBlocker4_ServicesRunStageImagesNotPlaceholders: every container image
// is pulled from this stage's own ECR repositories.
func TestBlocker4_ServicesRunStageImagesNotPlaceholders(t *testing.T) {
	for _, name := range []string{"staging", "production"} {
		b := stages[name]
		for _, td := range b.templates["compute"].Resources("AWS::ECS::TaskDefinition") {
			for _, c := range td.Props["ContainerDefinitions"].([]any) {
				img := str(c.(map[string]any)["Image"])
				if !strings.Contains(img, ".dkr.ecr.") || !strings.Contains(img, "Repository") {
					t.Errorf("%s %s: image %s is not from the stage's ECR", name, c.(map[string]any)["Name"], img)
				}
			}
		}
		for _, repo := range []string{"backend", "frontend"} {
			if len(b.templates["data"].Where("AWS::ECR::Repository", "RepositoryName", b.stage.Names.EcrRepository(repo))) != 1 {
				t.Errorf("%s: no ECR repository %s", name, b.stage.Names.EcrRepository(repo))
			}
		}
	}
}

// TestBlocker3_AlbServesHTTPSWithTheStageCertificate: HTTPS on 443 with the
// stage's certificate and a TLS 1.2+ policy, HTTP 80 only redirects; a stage
// that explicitly allows HTTP only serves port 80.
func TestBlocker3_AlbServesHTTPSWithTheStageCertificate(t *testing.T) {
	for _, name := range []string{"staging", "production"} {
		b := stages[name]
		tpl := b.templates["compute"]
		https := tpl.Where("AWS::ElasticLoadBalancingV2::Listener", "Port", 443.0)
		if len(https) != 1 {
			t.Fatalf("%s: want one 443 listener, got %d", name, len(https))
		}
		p := https[0].Props
		if p["Protocol"] != "HTTPS" || p["SslPolicy"] != compute.TLSPolicy || str(get(p, "Certificates.0.CertificateArn")) != b.stage.Cfg.CertificateArn {
			t.Errorf("%s: HTTPS listener = %s", name, str(p))
		}
		http := tpl.Where("AWS::ElasticLoadBalancingV2::Listener", "Port", 80.0)
		if len(http) != 1 || get(http[0].Props, "DefaultActions.0.Type") != "redirect" || get(http[0].Props, "DefaultActions.0.RedirectConfig.Protocol") != "HTTPS" {
			t.Errorf("%s: port 80 must redirect to HTTPS: %v", name, http)
		}
	}
	plain := variants["switched-on"].templates["compute"]
	listeners := plain.Resources("AWS::ElasticLoadBalancingV2::Listener")
	if len(listeners) != 1 || listeners[0].Props["Port"] != 80.0 || listeners[0].Props["Protocol"] != "HTTP" {
		t.Errorf("switched-on (HTTP-only) stage: want exactly one HTTP listener on 80, got %v", listeners)
	}
}

// TestBlocker2_ContextReachesTheTemplates: domainName, certificateArn and
// alertEmail from cdk.json reach the resources that use them.
func TestBlocker2_ContextReachesTheTemplates(t *testing.T) {
	for _, name := range []string{"staging", "production"} {
		b := stages[name]
		cfg := b.stage.Cfg
		if !strings.Contains(str(b.templates["compute"]), cfg.CertificateArn) {
			t.Errorf("%s: certificate %s not on the ALB", name, cfg.CertificateArn)
		}
		php := container(t, b.templates["compute"], b.stage.Names.Service("backend"), "php-fpm")
		if envNames(php, "Environment")["APP_URL"] != "https://"+cfg.DomainName {
			t.Errorf("%s: APP_URL = %v", name, envNames(php, "Environment")["APP_URL"])
		}
		subs := b.templates["network"].Where("AWS::SNS::Subscription", "Endpoint", cfg.AlertEmail)
		if len(subs) != 1 || subs[0].Props["Protocol"] != "email" {
			t.Errorf("%s: no email subscription for %s", name, cfg.AlertEmail)
		}
	}
}

// TestBackendTaskShape: ARM64, the contract's containers with health checks and
// essential flags, read-only roots with scratch volumes only where Laravel and
// nginx write, the queue worker restarted in place after --max-time.
func TestBackendTaskShape(t *testing.T) {
	b := stages["production"]
	tpl := b.templates["compute"]
	family := b.stage.Names.Service("backend")
	td := tpl.Where("AWS::ECS::TaskDefinition", "Family", family)[0]
	if get(td.Props, "RuntimePlatform.CpuArchitecture") != "ARM64" || td.Props["Cpu"] != "1024" || td.Props["Memory"] != "2048" {
		t.Errorf("task platform/size = %v %v %v", get(td.Props, "RuntimePlatform"), td.Props["Cpu"], td.Props["Memory"])
	}
	for _, name := range []string{"nginx", "php-fpm", "scheduler", "queue-worker", "storage-init"} {
		c := container(t, tpl, family, name)
		if c["ReadonlyRootFilesystem"] != true {
			t.Errorf("%s: root filesystem is writable", name)
		}
		wantEssential := name != "storage-init"
		if c["Essential"] != wantEssential {
			t.Errorf("%s: essential = %v", name, c["Essential"])
		}
		if c["LogConfiguration"] == nil {
			t.Errorf("%s: no log configuration", name)
		}
	}
	for _, name := range []string{"nginx", "php-fpm"} {
		if container(t, tpl, family, name)["HealthCheck"] == nil {
			t.Errorf("%s: no health check", name)
		}
	}
	if container(t, tpl, family, "queue-worker")["RestartPolicy"] == nil {
		t.Errorf("queue-worker exits after --max-time=3600 by design and must be restarted in place")
	}
	env := envNames(container(t, tpl, family, "php-fpm"), "Environment")
	want := map[string]string{"APP_ENV": "production", "APP_DEBUG": "false", "LOG_CHANNEL": "stderr", "LOG_LEVEL": "info",
		"DB_CONNECTION": "central", "CENTRAL_DB_DRIVER": "mariadb", "CENTRAL_DB_PORT": "3306", "CENTRAL_DB_DATABASE": "bp",
		"TENANT_POOL_1_DB_DRIVER": "mariadb", "TENANT_POOL_1_DB_DATABASE": "tenant_pool_1", "TENANT_POOL_2_DB_DRIVER": "mariadb",
		"TENANT_POOL_2_DB_DATABASE": "tenant_pool_2", "CACHE_STORE": "redis", "SESSION_DRIVER": "redis", "QUEUE_CONNECTION": "database",
		"FILESYSTEM_DISK": "s3", "AWS_DEFAULT_REGION": "us-east-1", "COMFYUI_AWS_REGION": "us-east-1", "COMFYUI_MODELS_DISK": "comfyui_models",
		"COMFYUI_LOGS_DISK": "comfyui_logs", "REDIS_SCHEME": "tls"}
	for k, v := range want {
		if env[k] != v {
			t.Errorf("php-fpm %s = %v, want %s", k, env[k], v)
		}
	}
	for _, k := range []string{"REDIS_HOST", "REDIS_PORT", "AWS_BUCKET", "AWS_URL", "COMFYUI_MODELS_BUCKET", "COMFYUI_LOGS_BUCKET", "APP_URL"} {
		if env[k] == nil {
			t.Errorf("php-fpm lacks %s", k)
		}
	}
	staging := envNames(container(t, stages["staging"].templates["compute"], stages["staging"].stage.Names.Service("backend"), "php-fpm"), "Environment")
	if staging["LOG_LEVEL"] != "debug" || staging["APP_ENV"] != "staging" {
		t.Errorf("staging LOG_LEVEL/APP_ENV = %v/%v", staging["LOG_LEVEL"], staging["APP_ENV"])
	}
}

// TestServicesDeploySafely: circuit breaker with rollback, ECS Exec per config, private
// subnets without public IPs, Spot weighting and CPU autoscaling per stage.
func TestServicesDeploySafely(t *testing.T) {
	for _, name := range []string{"staging", "production"} {
		b := stages[name]
		tpl := b.templates["compute"]
		for _, svc := range []string{"backend", "frontend"} {
			s := tpl.Where("AWS::ECS::Service", "ServiceName", b.stage.Names.Service(svc))
			if len(s) != 1 {
				t.Fatalf("%s: no service %s", name, svc)
			}
			p := s[0].Props
			if get(p, "DeploymentConfiguration.DeploymentCircuitBreaker.Rollback") != true || p["EnableExecuteCommand"] != b.stage.Cfg.Cluster.ExecEnabled ||
				get(p, "NetworkConfiguration.AwsvpcConfiguration.AssignPublicIp") != "DISABLED" {
				t.Errorf("%s/%s: unsafe service %s", name, svc, str(p))
			}
			strategy := str(p["CapacityProviderStrategy"])
			if !strings.Contains(strategy, "FARGATE_SPOT") {
				t.Errorf("%s/%s: no Spot share: %s", name, svc, strategy)
			}
		}
		if got := len(tpl.Resources("AWS::ApplicationAutoScaling::ScalingPolicy")); got != 2 {
			t.Errorf("%s: %d scaling policies, want 2", name, got)
		}
		cluster := tpl.One(t, "AWS::ECS::Cluster")
		if !strings.Contains(str(cluster.Props["ClusterSettings"]), "enabled") {
			t.Errorf("%s: Container Insights off: %v", name, cluster.Props["ClusterSettings"])
		}
	}
}

// TestListenerRulesRouteApiToBackend: /api/*, /sanctum/* and /up go to the
// backend, the worker API only from the stage's NAT addresses, the rest to
// the frontend (routeOf evaluates the listener as the ALB does).
func TestListenerRulesRouteApiToBackend(t *testing.T) {
	tpl := stages["staging"].templates["compute"]
	nat := []string{"198.51.100.7/32", "203.0.113.9/32"} // what the network stack's parameter holds
	for _, c := range []struct{ path, from, want string }{
		{"/api/jobs", "192.0.2.1", "BackendTargets"},
		{"/sanctum/csrf-cookie", "192.0.2.1", "BackendTargets"},
		{"/up", "192.0.2.1", "BackendTargets"},
		{"/", "192.0.2.1", "FrontendTargets"},
		{"/gallery/42", "192.0.2.1", "FrontendTargets"},
		{"/api/worker/poll", "198.51.100.7", "BackendTargets"},
		{"/api/worker/register", "203.0.113.9", "BackendTargets"},
		{"/api/worker/poll", "192.0.2.1", "403"},
		{"/api/worker/register", "198.51.100.8", "403"},
	} {
		if got := routeOf(t, tpl, nat, c.path, c.from); !strings.Contains(got, c.want) {
			t.Errorf("%s from %s -> %s, want %s", c.path, c.from, got, c.want)
		}
	}
	alb := tpl.One(t, "AWS::ElasticLoadBalancingV2::LoadBalancer")
	attrs := str(alb.Props["LoadBalancerAttributes"])
	for _, want := range []string{`"routing.http.drop_invalid_header_fields.enabled","Value":"true"`, `"access_logs.s3.enabled","Value":"true"`, `"idle_timeout.timeout_seconds","Value":"60"`} {
		if !strings.Contains(attrs, want) {
			t.Errorf("ALB attribute %s missing: %s", want, attrs)
		}
	}
	tg := tpl.Where("AWS::ElasticLoadBalancingV2::TargetGroup", "HealthCheckPath", "/up")
	if len(tg) != 1 {
		t.Errorf("backend target group must check /up")
	}
}

// TestComputeOutputsForOperators: CI reads names and the migration network config.
func TestComputeOutputsForOperators(t *testing.T) {
	outputs, _ := stages["staging"].templates["compute"]["Outputs"].(map[string]any)
	for _, k := range []string{"ClusterName", "BackendServiceName", "FrontendServiceName", "BackendTaskFamily", "FrontendTaskFamily",
		"AlbDnsName", "ApiBaseUrl", "BackendSubnets", "BackendSecurityGroup"} {
		if _, ok := outputs[k]; !ok {
			t.Errorf("missing output %s", k)
		}
	}
}

// TestMigrationRunTaskCanStartNginx: the pipeline's migration run-task
// overrides php-fpm's command, so php-fpm never turns healthy there; nginx must
// wait for it to start, not to be healthy, or the task stops mid-migration.
func TestMigrationRunTaskCanStartNginx(t *testing.T) {
	b := stages["production"]
	nginx := container(t, b.templates["compute"], b.stage.Names.Service("backend"), "nginx")
	deps := str(nginx["DependsOn"])
	if !strings.Contains(deps, `"Condition":"START","ContainerName":"php-fpm"`) {
		t.Errorf("nginx depends on %s, want php-fpm START", deps)
	}
}

// TestEcsExecWorksWithReadOnlyRoots: the containers operators exec into keep
// a read-only root but give the SSM agent its scratch paths.
func TestEcsExecWorksWithReadOnlyRoots(t *testing.T) {
	b := stages["staging"]
	for _, c := range []struct{ svc, name string }{{"backend", "php-fpm"}, {"frontend", "nextjs"}} {
		def := container(t, b.templates["compute"], b.stage.Names.Service(c.svc), c.name)
		mounts := str(def["MountPoints"])
		for _, path := range []string{"/var/lib/amazon/ssm", "/var/log/amazon/ssm", "/managed-agents"} {
			if !strings.Contains(mounts, `"ContainerPath":"`+path+`"`) {
				t.Errorf("%s: no writable %s for ECS Exec", c.name, path)
			}
		}
		if def["ReadonlyRootFilesystem"] != true {
			t.Errorf("%s: root filesystem must stay read-only", c.name)
		}
	}
}

// TestDebugModeIsOffBehindThePublicAlb: Laravel's debug pages print the
// environment, secrets included.
func TestDebugModeIsOffBehindThePublicAlb(t *testing.T) {
	for _, name := range []string{"staging", "production"} {
		b := stages[name]
		php := container(t, b.templates["compute"], b.stage.Names.Service("backend"), "php-fpm")
		if envNames(php, "Environment")["APP_DEBUG"] != "false" {
			t.Errorf("%s: APP_DEBUG = %v", name, envNames(php, "Environment")["APP_DEBUG"])
		}
	}
}

// TestServicesWaitForTheCapacityProviders: a service with a capacity provider
// strategy fails to create before the cluster's provider association exists.
func TestServicesWaitForTheCapacityProviders(t *testing.T) {
	tpl := stages["staging"].templates["compute"]
	assoc := tpl.One(t, "AWS::ECS::ClusterCapacityProviderAssociations").LogicalID
	for _, s := range tpl.Resources("AWS::ECS::Service") {
		if !strings.Contains(str(s.Raw["DependsOn"]), assoc) {
			t.Errorf("%s does not depend on %s", s.LogicalID, assoc)
		}
	}
}
