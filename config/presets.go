package config

// StageNames lists the known stages in deploy-review order.
func StageNames() []string { return []string{"staging", "production"} }

// Preset returns the built-in settings of a stage (system-facts section 2),
// which cdk.json and -c flags override.
func Preset(name string) (Stage, bool) {
	switch name {
	case "staging":
		return stagingPreset(), true
	case "production":
		return productionPreset(), true
	}
	return Stage{}, false
}

func basePreset(stage string) Stage {
	return Stage{
		AppPrefix:         "bp",
		Stage:             stage,
		Region:            "us-east-1",
		AvailabilityZones: []string{"us-east-1a", "us-east-1b"},
		LogLevel:          "info",
		Network: Network{
			VpcCidr:            "10.0.0.0/16",
			PublicSubnetMask:   24,
			PrivateSubnetMask:  22,
			IsolatedSubnetMask: 24,
			NatKind:            "gateway",
			NatInstanceType:    "t4g.nano",
			S3PrefixListID:     "pl-63a5400a", // com.amazonaws.us-east-1.s3
		},
		Database: Database{
			EngineVersion:         "10.11.15",
			AllocatedStorageGb:    20,
			MaxAllocatedStorageGb: 100,
			BackupRetentionDays:   7,
			Databases:             []string{"bp", "tenant_pool_1", "tenant_pool_2"},
			AppUsername:           "bp_app",
			MaxConnections:        150,
			AuditLog:              true,
		},
		Cache: Cache{Engine: "valkey", EngineVersion: "7.2"},
		Media: Media{
			PriceClass:            "PriceClass_100",
			InfrequentAccessDays:  30,
			GlacierIrDays:         180,
			ModelVersionsKeepDays: 30,
			NoncurrentVersionDays: 30,
		},
		Ecr:           Ecr{KeepImages: 30},
		Alb:           Alb{IdleTimeoutSeconds: 60},
		Waf:           Waf{APIRequestsPer5Min: 2000, RegisterRequestsPer5Min: 100},
		Ci:            Ci{GitHubRepository: "example-org/bp-infra", BootstrapQualifier: "hnb659fds"},
		Fleets:        []Fleet{defaultGpuFleet()},
		FleetSchedule: FleetSchedule{Cron: "0 22 * * *"},
		Alarms: Alarms{
			Alb5xxWarning:           10,
			Alb5xxCritical:          50,
			Target5xx:               20,
			LatencyP95Seconds:       2,
			EcsCpuPercent:           85,
			EcsMemoryPercent:        85,
			RdsCpuPercent:           80,
			RdsFreeStorageGb:        2,
			RdsConnections:          120, // 80% of max_connections 150
			CacheCpuPercent:         80,
			CacheMemoryPercent:      80,
			CacheEvictions:          100,
			QueueDepthDeep:          10,
			FleetErrorRatePercent:   20,
			LeaseExpiredCount:       3,
			SpotInterruptionCount:   3,
			StuckFleetMarginMinutes: 15,
			CloudFront5xxPercent:    5,
		},
	}
}

func defaultGpuFleet() Fleet {
	f := DefaultFleet()
	f.Slug = "gpu-default"
	f.DisplayName = "Default GPU fleet"
	return f
}

func stagingPreset() Stage {
	s := basePreset("staging")
	s.LogRetentionDays = 7
	s.Network.FlowLogRetentionDays = 7
	s.LogLevel = "debug"
	s.MonthlyBudgetUsd = 300
	s.Network.NatCount = 1
	// A t4g.nano NAT instance ($7.36/month with its address and disk) instead
	// of a NAT gateway ($36.50): staging's traffic is small and it may stall.
	s.Network.NatKind = "instance"
	s.Database.InstanceClass = "db.t4g.small"
	s.Database.RemovalPolicy = "snapshot"
	s.Cache.NodeType = "cache.t4g.micro"
	s.Cluster = Cluster{FargateWeight: 1, FargateSpotWeight: 3, FargateBase: 0, ExecEnabled: true}
	s.Backend = Service{Cpu: 512, MemoryMiB: 1024, MinCount: 1, MaxCount: 2, CpuTargetPercent: 70}
	s.Frontend = Service{Cpu: 256, MemoryMiB: 512, MinCount: 1, MaxCount: 2, CpuTargetPercent: 70}
	s.Fleets[0].MaxSize = 2
	s.FleetSchedule.NightlyScaleToZero = true
	s.Alarms.NatGbPerHour = 5
	s.Alarms.LogsGbPerDay = 2
	s.Alarms.CloudFrontGbPerDay = 20
	return s
}

func productionPreset() Stage {
	s := basePreset("production")
	s.LogRetentionDays = 30
	s.Network.FlowLogRetentionDays = 90
	s.Media.Versioned = true
	s.MonthlyBudgetUsd = 3000
	s.Network.NatCount = 2
	s.Database.InstanceClass = "db.t4g.medium"
	s.Database.MultiAz = true
	s.Database.DeletionProtection = true
	s.Database.RemovalPolicy = "retain"
	s.Cache.NodeType = "cache.t4g.small"
	s.Cache.Replicas = 1
	s.Waf.Enabled = true
	// Jobs must not wait for Spot capacity in production: after 3 minutes of
	// queued jobs with Spot launches failing, up to 2 On-Demand instances
	// (docs/capacity.md); they cost only while the shortage lasts.
	s.Fleets[0].OnDemandFallback = OnDemandFallback{Enabled: true, MaxInstances: 2, AfterMinutes: 3}
	// One on-demand task per service always, every further task on Spot
	// (about 70% cheaper, with a 2-minute notice ECS handles).
	s.Cluster = Cluster{FargateWeight: 0, FargateSpotWeight: 1, FargateBase: 1}
	s.Backend = Service{Cpu: 1024, MemoryMiB: 2048, MinCount: 2, MaxCount: 6, CpuTargetPercent: 60}
	s.Frontend = Service{Cpu: 512, MemoryMiB: 1024, MinCount: 1, MaxCount: 4, CpuTargetPercent: 60}
	s.Alarms.NatGbPerHour = 20
	s.Alarms.LogsGbPerDay = 10
	s.Alarms.CloudFrontGbPerDay = 500
	return s
}

// DefaultFleet is what a fleet entry in cdk.json starts from before its own
// keys apply (system-facts section 3). AmiParameter stays empty here: Load
// derives /<app>/ami/fleets/<stage>/<slug> unless amiId pins an image.
func DefaultFleet() Fleet {
	return Fleet{
		InstanceTypes:             []string{"g4dn.xlarge", "g5.xlarge"},
		MaxSize:                   10,
		WarmupSeconds:             300,
		BacklogPerInstanceTarget:  2,
		ScaleToZeroMinutes:        15,
		RootVolumeGb:              100,
		OnDemandPercent:           0,
		ProtectedIdleLimitMinutes: 30,
		// Off unless a fleet turns it on (README: recommended for production
		// with a bound of 1-2): On-Demand costs about twice Spot.
		OnDemandFallback: OnDemandFallback{Enabled: false, MaxInstances: 1, AfterMinutes: 3},
		WarmBuffer:       WarmBuffer{Enabled: false, MinInstances: 1, StartCron: "0 8 * * 1-5", EndCron: "0 20 * * 1-5"},
		// Off: the rate is billed per GiB of snapshot data at every launch,
		// which adds up for a fleet that scales to zero many times a day.
		RootVolumeInitRateMiBps: 0,
	}
}
