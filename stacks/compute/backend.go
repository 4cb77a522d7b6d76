package compute

import (
	"maps"
	"slices"
	"strconv"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/jsii-runtime-go"

	"github.com/bp/infra/bootcontract"
	"github.com/bp/infra/internal/rdsca"
	"github.com/bp/infra/naming"
	"github.com/bp/infra/stacks/base"
	"github.com/bp/infra/stacks/network"
)

// Backend container names and commands (system-facts section 1).
const (
	NginxContainer       = "nginx"
	PhpFpmContainer      = "php-fpm"
	SchedulerContainer   = "scheduler"
	QueueWorkerContainer = "queue-worker"
	// StorageInitContainer prepares Laravel's writable storage on the task's
	// scratch volume, so the app containers can keep a read-only root.
	StorageInitContainer = "storage-init"
	LaravelRoot          = "/var/www/html"
	PhpFpmPort           = 9000
	// RdsCaInitContainer writes the region's Amazon RDS CA bundle into the
	// task's scratch volume, where PDO verifies the database certificate:
	// the php image belongs to the app team and need not carry it.
	RdsCaInitContainer = "rds-ca-init"
	RdsCaDir           = "/etc/rds-ca"
	RdsCaFile          = RdsCaDir + "/rds-ca-bundle.pem"
	rdsCaVolume        = "rds-ca"
)

// Commands CI/CD and the app rely on.
var (
	SchedulerCommand   = []string{"php", "artisan", "schedule:work"}
	QueueWorkerCommand = []string{"php", "artisan", "queue:work", "--sleep=3", "--tries=3", "--max-time=3600"}
)

func serviceLogGroup(stack awscdk.Stack, p Props, svc string) awslogs.LogGroup {
	return base.LogGroup(stack, svc+"Logs", p.Names.LogGroup("ecs/"+svc), p.Cfg.LogRetentionDays)
}

func logTo(group awslogs.ILogGroup, container string) awsecs.LogDriver {
	return awsecs.LogDrivers_AwsLogs(&awsecs.AwsLogDriverProps{
		LogGroup:     group,
		StreamPrefix: jsii.String(container),
		// Never block the app on a slow log pipe; drop instead.
		Mode:          awsecs.AwsLogDriverMode_NON_BLOCKING,
		MaxBufferSize: awscdk.Size_Mebibytes(jsii.Number(25)),
	})
}

func shellHealthCheck(cmd string) *awsecs.HealthCheck {
	return &awsecs.HealthCheck{
		Command:     jsii.Strings("CMD-SHELL", cmd),
		Interval:    awscdk.Duration_Seconds(jsii.Number(15)),
		Timeout:     awscdk.Duration_Seconds(jsii.Number(5)),
		Retries:     jsii.Number(3),
		StartPeriod: awscdk.Duration_Seconds(jsii.Number(30)),
	}
}

func taskDefinition(stack awscdk.Stack, p Props, id, svc string, cpu, mem int) awsecs.FargateTaskDefinition {
	return awsecs.NewFargateTaskDefinition(stack, jsii.String(id), &awsecs.FargateTaskDefinitionProps{
		Family:         jsii.String(p.Names.Service(svc)),
		Cpu:            jsii.Number(float64(cpu)),
		MemoryLimitMiB: jsii.Number(float64(mem)),
		RuntimePlatform: &awsecs.RuntimePlatform{
			CpuArchitecture:       awsecs.CpuArchitecture_ARM64(), // the pipeline pushes linux/arm64 images
			OperatingSystemFamily: awsecs.OperatingSystemFamily_LINUX(),
		},
	})
}

// bucketActions are what Laravel's S3 filesystem does with its disks.
var bucketActions = []string{"s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"}

// grantTaskRole gives the app only what it uses: objects in its three buckets
// and metrics in the workers' namespace.
func grantTaskRole(def awsecs.FargateTaskDefinition, p Props) {
	role := def.TaskRole()
	var buckets, objects []*string
	for _, b := range []awss3.IBucket{p.Data.MediaBucket, p.Data.ModelsBucket, p.Data.ComfyLogsBucket} {
		buckets = append(buckets, b.BucketArn())
		objects = append(objects, b.ArnForObjects(jsii.String("*")))
	}
	role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid: jsii.String("AppBucketObjects"), Actions: jsii.Strings(bucketActions...), Resources: &objects,
	}))
	role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid: jsii.String("AppBucketListing"), Actions: jsii.Strings("s3:ListBucket", "s3:GetBucketLocation"), Resources: &buckets,
	}))
	// The Admin UI writes each fleet's active bundle and desired config
	// pointers (and reads them back); only those two parameters of its own stage.
	var pointers []*string
	for _, name := range []string{p.Names.FleetPointerParameter("*", naming.ActiveBundlePointer), p.Names.FleetPointerParameter("*", naming.DesiredConfigPointer)} {
		pointers = append(pointers, base.SSMParameterArn(def, name))
	}
	role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid: jsii.String("FleetPointers"), Actions: jsii.Strings("ssm:GetParameter", "ssm:PutParameter"), Resources: &pointers,
	}))
	role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("WorkerMetrics"),
		Actions:    jsii.Strings("cloudwatch:PutMetricData"),
		Resources:  jsii.Strings("*"), // PutMetricData has no resource; the namespace condition scopes it
		Conditions: &map[string]interface{}{"StringEquals": map[string]interface{}{"cloudwatch:namespace": bootcontract.MetricsNamespace}},
	}))
}

// newBackendService is the Laravel task: nginx in front of php-fpm, plus the
// scheduler and queue worker from the same php image.
func newBackendService(stack awscdk.Stack, p Props, cluster awsecs.Cluster) awsecs.FargateService {
	sizes := p.Cfg.Backend
	def := taskDefinition(stack, p, "BackendTask", BackendService, sizes.Cpu, sizes.MemoryMiB)
	logs := serviceLogGroup(stack, p, BackendService)
	repo := p.Data.BackendRepo
	php := awsecs.ContainerImage_FromEcrRepository(repo, jsii.String(naming.ImageTag("php-", p.Cfg.ImageTag)))
	nginxImage := awsecs.ContainerImage_FromEcrRepository(repo, jsii.String(naming.ImageTag("nginx-", p.Cfg.ImageTag)))

	// Writable scratch volumes, only where nginx and Laravel write.
	for _, v := range []string{"nginx-cache", "nginx-run", "nginx-tmp", "laravel-storage", "laravel-bootstrap-cache", "php-tmp", rdsCaVolume} {
		def.AddVolume(&awsecs.Volume{Name: jsii.String(v)})
	}
	mount := func(c awsecs.ContainerDefinition, volume, path string) {
		c.AddMountPoints(&awsecs.MountPoint{SourceVolume: jsii.String(volume), ContainerPath: jsii.String(path), ReadOnly: jsii.Bool(false)})
	}
	laravelMounts := func(c awsecs.ContainerDefinition) {
		mount(c, "laravel-storage", LaravelRoot+"/storage")
		mount(c, "laravel-bootstrap-cache", LaravelRoot+"/bootstrap/cache")
		mount(c, "php-tmp", "/tmp")
	}

	storageInit := def.AddContainer(jsii.String(StorageInitContainer), &awsecs.ContainerDefinitionOptions{
		Image:      php,
		Essential:  jsii.Bool(false),
		User:       jsii.String("0"),
		EntryPoint: jsii.Strings("sh", "-c"),
		Command: jsii.Strings("mkdir -p " + LaravelRoot + "/storage/framework/cache/data " + LaravelRoot + "/storage/framework/sessions " +
			LaravelRoot + "/storage/framework/views " + LaravelRoot + "/storage/logs " + LaravelRoot + "/bootstrap/cache && chown -R www-data:www-data " +
			LaravelRoot + "/storage " + LaravelRoot + "/bootstrap/cache"),
		ReadonlyRootFilesystem: jsii.Bool(true),
		Logging:                logTo(logs, StorageInitContainer),
	})
	laravelMounts(storageInit)
	caInit := addRdsCaInit(def, p, php, logs)

	phpContainer := func(name string, command []string, health *awsecs.HealthCheck) awsecs.ContainerDefinition {
		opts := &awsecs.ContainerDefinitionOptions{
			Image:                  php,
			Essential:              jsii.Bool(true),
			Environment:            ptrMap(backendEnvironment(p)),
			Secrets:                secretsPtr(backendSecrets(p)),
			ReadonlyRootFilesystem: jsii.Bool(true),
			Logging:                logTo(logs, name),
			HealthCheck:            health,
			StopTimeout:            awscdk.Duration_Seconds(jsii.Number(60)),
		}
		if command != nil {
			opts.Command = jsii.Strings(command...)
			// queue:work exits after --max-time by design and schedule:work may
			// stop; restart them in place instead of replacing the web task.
			opts.EnableRestartPolicy = jsii.Bool(true)
			opts.RestartAttemptPeriod = awscdk.Duration_Seconds(jsii.Number(60))
		}
		c := def.AddContainer(jsii.String(name), opts)
		laravelMounts(c)
		c.AddMountPoints(&awsecs.MountPoint{SourceVolume: jsii.String(rdsCaVolume), ContainerPath: jsii.String(RdsCaDir), ReadOnly: jsii.Bool(true)})
		c.AddContainerDependencies(
			&awsecs.ContainerDependency{Container: storageInit, Condition: awsecs.ContainerDependencyCondition_SUCCESS},
			&awsecs.ContainerDependency{Container: caInit, Condition: awsecs.ContainerDependencyCondition_SUCCESS},
		)
		return c
	}
	fpm := phpContainer(PhpFpmContainer, nil,
		shellHealthCheck(`php -r 'exit(@fsockopen("127.0.0.1", `+strconv.Itoa(PhpFpmPort)+`) ? 0 : 1);'`))
	fpm.AddPortMappings(&awsecs.PortMapping{ContainerPort: jsii.Number(PhpFpmPort), Name: jsii.String("php-fpm")})
	allowExec(p, def, fpm)
	phpContainer(SchedulerContainer, SchedulerCommand, nil)
	phpContainer(QueueWorkerContainer, QueueWorkerCommand, nil)

	nginx := def.AddContainer(jsii.String(NginxContainer), &awsecs.ContainerDefinitionOptions{
		Image:                  nginxImage,
		Essential:              jsii.Bool(true),
		ReadonlyRootFilesystem: jsii.Bool(true),
		Logging:                logTo(logs, NginxContainer),
		PortMappings:           &[]*awsecs.PortMapping{{ContainerPort: jsii.Number(network.NginxPort), Name: jsii.String("http")}},
		HealthCheck:            shellHealthCheck("curl -fsS http://127.0.0.1/up >/dev/null || wget -q -O /dev/null http://127.0.0.1/up || exit 1"),
	})
	mount(nginx, "nginx-cache", "/var/cache/nginx")
	mount(nginx, "nginx-run", "/var/run")
	mount(nginx, "nginx-tmp", "/tmp")
	// START, not HEALTHY: the pipeline's migration run-task overrides php-fpm's
	// command, so port 9000 never opens there; waiting for HEALTHY would stop
	// that task mid-migration. The ALB's /up check gates traffic instead.
	nginx.AddContainerDependencies(&awsecs.ContainerDependency{Container: fpm, Condition: awsecs.ContainerDependencyCondition_START})
	def.SetDefaultContainer(nginx)

	grantTaskRole(def, p)
	return newService(stack, p, cluster, "BackendService", BackendService, def, sizes, p.Net.SecurityGroups.Backend)
}

// execAgentPaths are where ECS Exec's SSM agent writes inside the container;
// with a read-only root they must be scratch volumes or sessions fail.
var execAgentPaths = map[string]string{
	"exec-ssm-lib":        "/var/lib/amazon/ssm",
	"exec-ssm-log":        "/var/log/amazon/ssm",
	"exec-managed-agents": "/managed-agents",
}

// allowExec gives the container operators exec into the scratch paths ECS
// Exec needs, keeping its root filesystem read-only.
func allowExec(p Props, def awsecs.FargateTaskDefinition, c awsecs.ContainerDefinition) {
	if !p.Cfg.Cluster.ExecEnabled {
		return
	}
	for _, volume := range slices.Sorted(maps.Keys(execAgentPaths)) {
		def.AddVolume(&awsecs.Volume{Name: jsii.String(volume)})
		c.AddMountPoints(&awsecs.MountPoint{SourceVolume: jsii.String(volume), ContainerPath: jsii.String(execAgentPaths[volume]), ReadOnly: jsii.Bool(false)})
	}
}

func ptrMap(m map[string]*string) *map[string]*string { return &m }

func secretsPtr(m map[string]awsecs.Secret) *map[string]awsecs.Secret { return &m }

// addRdsCaInit is the non-essential container that writes the region's RDS
// CA bundle (internal/rdsca) to RdsCaFile before the php containers start;
// they read it through MYSQL_ATTR_SSL_CA (Laravel's PDO option for the
// mariadb connections).
func addRdsCaInit(def awsecs.FargateTaskDefinition, p Props, image awsecs.ContainerImage, logs awslogs.ILogGroup) awsecs.ContainerDefinition {
	bundle, err := rdsca.ForRegion(p.Cfg.Region)
	if err != nil {
		panic(err) // config validation accepts only regions the bundle covers
	}
	c := def.AddContainer(jsii.String(RdsCaInitContainer), &awsecs.ContainerDefinitionOptions{
		Image:      image,
		Essential:  jsii.Bool(false),
		User:       jsii.String("0"), // the scratch volume belongs to root
		EntryPoint: jsii.Strings("sh", "-c"),
		Command:    jsii.Strings(`umask 022 && printf '%s\n' "$RDS_CA_BUNDLE" > ` + RdsCaFile),
		Environment: &map[string]*string{
			"RDS_CA_BUNDLE": jsii.String(string(bundle)),
		},
		ReadonlyRootFilesystem: jsii.Bool(true),
		Logging:                logTo(logs, RdsCaInitContainer),
	})
	c.AddMountPoints(&awsecs.MountPoint{SourceVolume: jsii.String(rdsCaVolume), ContainerPath: jsii.String(RdsCaDir), ReadOnly: jsii.Bool(false)})
	return c
}
