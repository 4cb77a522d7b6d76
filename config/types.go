// Package config holds the typed settings of one deployment stage, their presets,
// how they are decoded from CDK context and how they are validated. Plain structs
// without pointers: the zero value of every field is meaningful or rejected.
package config

// Stage is everything one stage's stacks are built from. Nothing else is read.
type Stage struct {
	AppPrefix         string   `json:"appPrefix"`
	Stage             string   `json:"stage"`
	Account           string   `json:"account"`
	Region            string   `json:"region"`
	AvailabilityZones []string `json:"availabilityZones"`
	Owner             string   `json:"owner"`
	// AllowSharedAccount accepts production in the same AWS account as
	// another stage (refused otherwise: that stage's deploy rights would be
	// production rights, and metric namespaces and quotas would be shared).
	AllowSharedAccount bool `json:"allowSharedAccount"`
	// SharesAccountWith is derived by Load, not a setting: the other stages
	// whose account is this stage's (empty when it has its own account).
	SharesAccountWith []string `json:"-"`

	// DomainName is the host the ALB serves (frontend and /api); the worker and
	// the frontend reach the API at https://<DomainName>.
	DomainName     string `json:"domainName"`
	CertificateArn string `json:"certificateArn"`
	// AllowHTTPOnly must be set explicitly for a stage without a certificate:
	// nothing is ever silently downgraded to plain HTTP.
	AllowHTTPOnly bool   `json:"allowHttpOnly"`
	AlertEmail    string `json:"alertEmail"`

	MonthlyBudgetUsd int    `json:"monthlyBudgetUsd"`
	LogRetentionDays int    `json:"logRetentionDays"`
	LogLevel         string `json:"logLevel"`
	// ImageTag pins a build (the pipeline's <sha7>); empty means the moving
	// "latest" tags the pipeline pushes.
	ImageTag string `json:"imageTag"`

	Network       Network       `json:"network"`
	Database      Database      `json:"database"`
	Cache         Cache         `json:"cache"`
	Media         Media         `json:"media"`
	Ecr           Ecr           `json:"ecr"`
	Cluster       Cluster       `json:"cluster"`
	Backend       Service       `json:"backend"`
	Frontend      Service       `json:"frontend"`
	Alb           Alb           `json:"alb"`
	Waf           Waf           `json:"waf"`
	Fleets        []Fleet       `json:"fleets"`
	FleetSchedule FleetSchedule `json:"fleetSchedule"`
	Alarms        Alarms        `json:"alarms"`
	Ci            Ci            `json:"ci"`
}

// Ci is the role the GitHub Actions workflow deploys the stage with (stack
// <app>-<stage>-ci, deployed once by an account admin: make deploy-ci).
type Ci struct {
	// GitHubRepository is "<owner>/<repo>"; only its workflow jobs that run
	// in the GitHub environment named like the stage may assume the role.
	GitHubRepository string `json:"githubRepository"`
	// OidcProviderArn names the account's existing GitHub OIDC provider
	// (an account has one per issuer); empty creates it in the ci stack.
	OidcProviderArn string `json:"oidcProviderArn"`
	// BootstrapQualifier is the CDK bootstrap qualifier of the account.
	BootstrapQualifier string `json:"bootstrapQualifier"`
}

// Network is the VPC layout. Subnet sizes are prefix lengths (24 = /24).
type Network struct {
	VpcCidr            string `json:"vpcCidr"`
	PublicSubnetMask   int    `json:"publicSubnetMask"`
	PrivateSubnetMask  int    `json:"privateSubnetMask"`
	IsolatedSubnetMask int    `json:"isolatedSubnetMask"`
	NatCount           int    `json:"natCount"`
	// NatKind is "gateway" (managed NAT gateway) or "instance" (a t4g NAT
	// instance, much cheaper, for non-production stages).
	NatKind         string `json:"natKind"`
	NatInstanceType string `json:"natInstanceType"`
	// InterfaceEndpoints are the AWS services reached through interface VPC
	// endpoints (names of com.amazonaws.<region>.<name>, InterfaceEndpointNames)
	// instead of NAT. One costs $0.01 per AZ-hour ($14.60/month in 2 AZs) and
	// $0.01/GB, and saves NAT's $0.045/GB: it pays for itself above
	// 14.60 / 0.035 = 417 GB/month through that one service (2 AZs). None of
	// ours comes near that at this product's traffic, so the presets use none.
	InterfaceEndpoints []string `json:"interfaceEndpoints"`
	// FlowLogRetentionDays keeps the VPC flow logs (at least 90 in
	// production: incident investigation looks back further than app logs).
	FlowLogRetentionDays int `json:"flowLogRetentionDays"`
	// S3PrefixListID is the region's AWS-managed prefix list of S3
	// (com.amazonaws.<region>.s3), kept in config so synthesis needs no lookup.
	S3PrefixListID string `json:"s3PrefixListId"`
}

// Database is the RDS MariaDB instance and what DB-init creates in it.
type Database struct {
	// EngineVersion is a full MariaDB version (10.11.15). Automatic minor
	// upgrades are off, so the running version always equals this value:
	// move it forward here (a minor upgrade reboots the instance).
	EngineVersion         string   `json:"engineVersion"`
	InstanceClass         string   `json:"instanceClass"`
	MultiAz               bool     `json:"multiAz"`
	AllocatedStorageGb    int      `json:"allocatedStorageGb"`
	MaxAllocatedStorageGb int      `json:"maxAllocatedStorageGb"`
	BackupRetentionDays   int      `json:"backupRetentionDays"`
	PerformanceInsights   bool     `json:"performanceInsights"`
	DeletionProtection    bool     `json:"deletionProtection"`
	RemovalPolicy         string   `json:"removalPolicy"` // snapshot | retain
	Databases             []string `json:"databases"`
	AppUsername           string   `json:"appUsername"`
	MaxConnections        int      `json:"maxConnections"`
	// AppUserSyncToken is any string; changing it makes the next deploy run
	// DB-init again, which sets the app user's password to the one in its
	// secret (docs/runbooks/rotate-db-app-user.md).
	AppUserSyncToken string `json:"appUserSyncToken"`
	// AuditLog turns on the MariaDB audit plugin (connections, DDL and
	// grants) and ships it to CloudWatch Logs with the stage's retention.
	AuditLog bool `json:"auditLog"`
}

// Cache is the ElastiCache replication group (Valkey or Redis OSS).
type Cache struct {
	Engine        string `json:"engine"` // valkey | redis
	EngineVersion string `json:"engineVersion"`
	NodeType      string `json:"nodeType"`
	Replicas      int    `json:"replicas"` // 0 = single node; >= 1 enables Multi-AZ failover
}

// Media is the media bucket and its CloudFront distribution.
type Media struct {
	PriceClass string `json:"priceClass"` // PriceClass_100 | PriceClass_200 | PriceClass_All
	// CdnDomainName and CdnCertificateArn (us-east-1) give CloudFront a custom
	// domain; both or neither.
	CdnDomainName     string `json:"cdnDomainName"`
	CdnCertificateArn string `json:"cdnCertificateArn"`
	// WafRequestsPer5Min puts a rate-based AWS WAF web ACL (CLOUDFRONT scope,
	// us-east-1) on the distribution: requests per client IP per 5 minutes;
	// 0 means none ($5/month + $1 + $0.60 per million requests when on).
	WafRequestsPer5Min int `json:"wafRequestsPer5Min"`
	// Versioned keeps overwritten and deleted media as noncurrent versions
	// for NoncurrentVersionDays (recovery from a bad delete or overwrite).
	Versioned             bool `json:"versioned"`
	NoncurrentVersionDays int  `json:"noncurrentVersionDays"`
	InfrequentAccessDays  int  `json:"infrequentAccessDays"`
	GlacierIrDays         int  `json:"glacierIrDays"`
	ModelVersionsKeepDays int  `json:"modelVersionsKeepDays"`
}

// Ecr is the image repositories' retention.
type Ecr struct {
	KeepImages int `json:"keepImages"`
}

// Cluster is the ECS cluster's capacity provider mix, shared by both services.
type Cluster struct {
	FargateWeight     int `json:"fargateWeight"`
	FargateSpotWeight int `json:"fargateSpotWeight"`
	FargateBase       int `json:"fargateBase"` // tasks always on FARGATE before weights apply
	// ServicesStartAtZero keeps both services at 0 tasks (desired count and
	// the scalable target's minimum) on the first deploy, before the pipeline
	// has pushed any image to the (empty) ECR repositories.
	ServicesStartAtZero bool `json:"servicesStartAtZero"`
	// ExecEnabled lets operators open ECS Exec sessions into the tasks; every
	// session is logged, encrypted, to the stage's exec log group.
	ExecEnabled bool `json:"execEnabled"`
}

// Service sizes one Fargate service. Its task count belongs to the scalable
// target (MinCount..MaxCount): the template sets no desired count, so a deploy
// never resets what autoscaling has chosen.
type Service struct {
	Cpu              int `json:"cpu"`
	MemoryMiB        int `json:"memoryMiB"`
	MinCount         int `json:"minCount"`
	MaxCount         int `json:"maxCount"`
	CpuTargetPercent int `json:"cpuTargetPercent"`
}

// Alb holds load balancer settings.
type Alb struct {
	IdleTimeoutSeconds int `json:"idleTimeoutSeconds"`
}

// Waf is the AWS WAF web ACL in front of the ALB: AWS's common and
// known-bad-inputs rule groups and per-client-IP rate limits. It costs $5 per
// month plus $1 per rule (4 rules) and $0.60 per million requests.
type Waf struct {
	Enabled bool `json:"enabled"`
	// APIRequestsPer5Min limits each client IP on /api/* (the worker API,
	// which only the stage's NAT addresses may reach, is not counted).
	APIRequestsPer5Min int `json:"apiRequestsPer5Min"`
	// RegisterRequestsPer5Min limits /api/worker/register per IP; every GPU
	// worker of the stage registers from the NAT's few addresses.
	RegisterRequestsPer5Min int `json:"registerRequestsPer5Min"`
}

// Fleet is one GPU worker fleet (one Auto Scaling group).
type Fleet struct {
	Slug        string `json:"slug"`
	DisplayName string `json:"displayName"`
	// AmiParameter is the SSM parameter the AMI pipeline writes; AmiID pins an
	// image instead. Empty AmiParameter means /<app>/ami/fleets/<stage>/<slug>.
	AmiParameter             string   `json:"amiParameter"`
	AmiID                    string   `json:"amiId"`
	InstanceTypes            []string `json:"instanceTypes"`
	MaxSize                  int      `json:"maxSize"`
	WarmupSeconds            int      `json:"warmupSeconds"`
	BacklogPerInstanceTarget float64  `json:"backlogPerInstanceTarget"`
	ScaleToZeroMinutes       int      `json:"scaleToZeroMinutes"`
	RootVolumeGb             int      `json:"rootVolumeGb"`
	// OnDemandPercent above a base of 0; 0 means all Spot.
	OnDemandPercent int `json:"onDemandPercent"`
	// ProtectedIdleLimitMinutes: the reaper clears scale-in protection held
	// while the queue has been empty this long.
	ProtectedIdleLimitMinutes int `json:"protectedIdleLimitMinutes"`
	// OnDemandFallback raises the fleet's On-Demand base capacity while Spot
	// launches fail and jobs wait (lambdas/spotfallback).
	OnDemandFallback OnDemandFallback `json:"onDemandFallback"`
	// WarmBuffer keeps a minimum of instances running during set UTC hours.
	WarmBuffer WarmBuffer `json:"warmBuffer"`
	// RootVolumeInitRateMiBps is the EBS Provisioned Rate for Volume
	// Initialization of the root volume (100-300 MiB/s); 0 leaves EBS's
	// default lazy loading. Billed per GiB of snapshot data at each launch.
	RootVolumeInitRateMiBps int `json:"rootVolumeInitRateMiBps"`
}

// OnDemandFallback bounds how far Spot shortage may move a fleet to On-Demand.
type OnDemandFallback struct {
	Enabled bool `json:"enabled"`
	// MaxInstances is the most On-Demand instances the fallback asks for
	// (the group's OnDemandBaseCapacity while it lasts), at most maxSize.
	MaxInstances int `json:"maxInstances"`
	// AfterMinutes: the queue must have been non-empty this long, with Spot
	// launches failing, before the fallback starts; it is also the shortest
	// time the fleet stays in either state (no flapping).
	AfterMinutes int `json:"afterMinutes"`
}

// WarmBuffer is a scheduled minimum: from StartCron to EndCron (UTC) the
// group's MinCapacity is MinInstances; at EndCron it goes back to 0 and the
// fleet to zero (busy, protected workers finish their job first).
type WarmBuffer struct {
	Enabled      bool   `json:"enabled"`
	MinInstances int    `json:"minInstances"`
	StartCron    string `json:"startCron"` // 5-field UTC cron, e.g. "0 8 * * 1-5"
	EndCron      string `json:"endCron"`   // e.g. "0 20 * * 1-5"
}

// FleetSchedule optionally forces every fleet to zero at night (non-production).
type FleetSchedule struct {
	NightlyScaleToZero bool   `json:"nightlyScaleToZero"`
	Cron               string `json:"cron"` // UTC cron, e.g. "0 22 * * *"
}

// Alarms are thresholds; defaults per stage in presets.go.
type Alarms struct {
	Alb5xxWarning           int     `json:"alb5xxWarning"`  // count per 5 min
	Alb5xxCritical          int     `json:"alb5xxCritical"` // count per 5 min
	Target5xx               int     `json:"target5xx"`
	LatencyP95Seconds       float64 `json:"latencyP95Seconds"`
	EcsCpuPercent           int     `json:"ecsCpuPercent"`
	EcsMemoryPercent        int     `json:"ecsMemoryPercent"`
	RdsCpuPercent           int     `json:"rdsCpuPercent"`
	RdsFreeStorageGb        int     `json:"rdsFreeStorageGb"`
	RdsConnections          int     `json:"rdsConnections"`
	CacheCpuPercent         int     `json:"cacheCpuPercent"`
	CacheMemoryPercent      int     `json:"cacheMemoryPercent"`
	CacheEvictions          int     `json:"cacheEvictions"`
	QueueDepthDeep          int     `json:"queueDepthDeep"`
	FleetErrorRatePercent   int     `json:"fleetErrorRatePercent"`
	LeaseExpiredCount       int     `json:"leaseExpiredCount"`
	SpotInterruptionCount   int     `json:"spotInterruptionCount"`
	StuckFleetMarginMinutes int     `json:"stuckFleetMarginMinutes"`
	NatGbPerHour            int     `json:"natGbPerHour"`
	LogsGbPerDay            int     `json:"logsGbPerDay"`
	CloudFrontGbPerDay      int     `json:"cloudFrontGbPerDay"`
	CloudFront5xxPercent    int     `json:"cloudFront5xxPercent"`
}

// ServesHTTPS reports whether the ALB terminates TLS; the GPU workers' egress
// and the API base URL follow it (review blocker 3).
func (s Stage) ServesHTTPS() bool { return s.CertificateArn != "" }

// ListenerPort is the port the ALB serves the app on.
func (s Stage) ListenerPort() int {
	if s.ServesHTTPS() {
		return 443
	}
	return 80
}

// APIBaseURL is where the frontend and the GPU workers reach the backend.
func (s Stage) APIBaseURL() string {
	if s.ServesHTTPS() {
		return "https://" + s.DomainName
	}
	return "http://" + s.DomainName
}

// IsProduction reports the stage with production-only rules.
func (s Stage) IsProduction() bool { return s.Stage == "production" }

// InterfaceEndpointNames are the services an interface endpoint can be
// configured for: the AWS APIs the tasks, the GPU workers and DB-init call.
func InterfaceEndpointNames() []string {
	return []string{"autoscaling", "ec2messages", "ecr.api", "ecr.dkr", "kms", "logs", "monitoring", "secretsmanager", "ssm", "ssmmessages"}
}
