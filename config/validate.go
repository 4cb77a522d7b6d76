package config

import (
	"errors"
	"fmt"
	"maps"
	"net/mail"
	"net/netip"
	"reflect"
	"regexp"
	"slices"
	"strings"

	"github.com/bp/infra/internal/rdsca"
)

// problems collects every finding of one stage; each names key, value and fix.
type problems struct {
	stage string
	errs  []error
}

func (p *problems) add(key string, value any, why, fix string) {
	p.errs = append(p.errs, fmt.Errorf("stage %q: %s = %q: %s; fix: %s", p.stage, key, fmt.Sprint(value), why, fix))
}

func (p *problems) check(ok bool, key string, value any, why, fix string) {
	if !ok {
		p.add(key, value, why, fix)
	}
}

func (p *problems) between(key string, v, lo, hi int) {
	p.check(v >= lo && v <= hi, key, v, fmt.Sprintf("must be between %d and %d", lo, hi), fmt.Sprintf("set %s to a value in [%d, %d]", key, lo, hi))
}

var (
	reAppPrefix   = regexp.MustCompile(`^[a-z][a-z0-9]{1,9}$`)
	reAccount     = regexp.MustCompile(`^[0-9]{12}$`)
	reRegion      = regexp.MustCompile(`^[a-z]{2}(-gov)?-[a-z]+-[0-9]$`)
	reDomain      = regexp.MustCompile(`^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$`)
	reSlug        = regexp.MustCompile(`^[a-z]([a-z0-9-]{0,28}[a-z0-9])?$`)
	reInstance    = regexp.MustCompile(`^[a-z][a-z0-9-]*\.[a-z0-9]+$`)
	reDBClass     = regexp.MustCompile(`^db\.[a-z0-9-]+\.[a-z0-9]+$`)
	reCacheNode   = regexp.MustCompile(`^cache\.[a-z0-9-]+\.[a-z0-9]+$`)
	reDBName      = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)
	reDBUser      = regexp.MustCompile(`^[a-z][a-z0-9_]{0,31}$`)
	reEngine      = regexp.MustCompile(`^10\.(6|11)\.[0-9]+$|^11\.[0-9]+\.[0-9]+$`)
	reCacheVer    = regexp.MustCompile(`^(7|8)(\.[0-9]+)?$`)
	reImageTag    = regexp.MustCompile(`^[0-9a-f]{7,40}$`)
	reAmiID       = regexp.MustCompile(`^ami-[0-9a-f]{8,17}$`)
	reSSMParam    = regexp.MustCompile(`^/[A-Za-z0-9_./-]+$`)
	rePrefixList  = regexp.MustCompile(`^pl-[0-9a-f]{8,17}$`)
	reCron        = regexp.MustCompile(`^\S+ \S+ \S+ \S+ \S+$`)
	logRetentions = LogRetentionDays()
	logLevels     = []string{"debug", "info", "notice", "warning", "error", "critical"}
	fargateCPU    = map[int][2]int{256: {512, 2048}, 512: {1024, 4096}, 1024: {2048, 8192}, 2048: {4096, 16384}, 4096: {8192, 30720}}
)

// LogRetentionDays are the retentions CloudWatch Logs accepts.
func LogRetentionDays() []int {
	return []int{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}
}

// certificateArnPattern is what an ACM certificate ARN of region and account looks like.
func certificateArnPattern(region, account string) *regexp.Regexp {
	return regexp.MustCompile(`^arn:aws:acm:` + regexp.QuoteMeta(region) + `:` + regexp.QuoteMeta(account) +
		`:certificate/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
}

// Validate reports every problem of a resolved stage at once.
func Validate(s Stage) error {
	p := &problems{stage: s.Stage}
	prod := s.IsProduction()
	p.check(reAppPrefix.MatchString(s.AppPrefix), "appPrefix", s.AppPrefix, "must be 2-10 lowercase letters or digits, starting with a letter", "e.g. appPrefix=bp")
	p.check(reAccount.MatchString(s.Account), "account", s.Account, "must be a 12-digit AWS account id", "set stages."+s.Stage+".account in cdk.json or -c account=123456789012")
	p.check(reRegion.MatchString(s.Region), "region", s.Region, "is not an AWS region name", "e.g. region=us-east-1")
	if reRegion.MatchString(s.Region) {
		// The backend's tasks verify the database against the region's RDS CAs.
		_, err := rdsca.ForRegion(s.Region)
		p.check(err == nil, "region", s.Region, "has no Amazon RDS CA in internal/rdsca/global-bundle.pem", "regenerate the bundle (internal/rdsca/gen-global-bundle.sh) or use a region it covers")
	}
	p.check(strings.TrimSpace(s.Owner) != "", "owner", s.Owner, "is required (tag Owner on every resource)", "set owner to the owning team, e.g. owner=platform")
	validateAZs(p, s)
	validateEdge(p, s, prod)
	p.check(s.MonthlyBudgetUsd >= 1 && s.MonthlyBudgetUsd <= 1_000_000, "monthlyBudgetUsd", s.MonthlyBudgetUsd, "must be a monthly budget in USD between 1 and 1000000", "set monthlyBudgetUsd, e.g. monthlyBudgetUsd=500")
	p.check(slices.Contains(logRetentions, s.LogRetentionDays), "logRetentionDays", s.LogRetentionDays, "is not a CloudWatch Logs retention", fmt.Sprintf("use one of %v", logRetentions))
	p.check(slices.Contains(logLevels, s.LogLevel), "logLevel", s.LogLevel, "is not a Laravel log level", "use one of "+strings.Join(logLevels, ", "))
	p.check(s.ImageTag == "" || reImageTag.MatchString(s.ImageTag), "imageTag", s.ImageTag, "must be the pipeline's git sha (7-40 hex characters) or empty for the latest tags", "e.g. -c imageTag=abc1234")
	validateNetwork(p, s.Network, len(s.AvailabilityZones), prod)
	validateDatabase(p, s.Database, prod)
	validateCache(p, s.Cache)
	validateMedia(p, s.Media, prod)
	p.between("ecr.keepImages", s.Ecr.KeepImages, 1, 1000)
	validateCluster(p, s.Cluster)
	validateService(p, "backend", s.Backend)
	validateService(p, "frontend", s.Frontend)
	p.between("alb.idleTimeoutSeconds", s.Alb.IdleTimeoutSeconds, 1, 4000)
	validateFleets(p, s.Fleets)
	validateWaf(p, s)
	validateCi(p, s)
	for i, f := range s.Fleets {
		// CloudWatch alarms evaluate at most one day of one-minute periods.
		window := f.ScaleToZeroMinutes + s.Alarms.StuckFleetMarginMinutes
		p.check(window <= 1440, fmt.Sprintf("fleets[%d].scaleToZeroMinutes", i), f.ScaleToZeroMinutes,
			fmt.Sprintf("plus alarms.stuckFleetMarginMinutes (%d) is %d minutes; the stuck-fleet alarm can look back at most 1440", s.Alarms.StuckFleetMarginMinutes, window),
			"lower scaleToZeroMinutes or the margin")
	}
	validateSchedule(p, s.FleetSchedule, prod)
	validateAlarms(p, s.Alarms)
	return errors.Join(p.errs...)
}

func validateAZs(p *problems, s Stage) {
	azs := s.AvailabilityZones
	p.check(len(azs) >= 2 && len(azs) <= 6, "availabilityZones", azs, "must list 2 to 6 zones (RDS and the ALB need two)", "e.g. availabilityZones=us-east-1a,us-east-1b")
	seen := map[string]bool{}
	for i, az := range azs {
		key := fmt.Sprintf("availabilityZones[%d]", i)
		p.check(strings.HasPrefix(az, s.Region) && len(az) > len(s.Region), key, az, "is not a zone of region "+s.Region, "use zones like "+s.Region+"a")
		p.check(!seen[az], key, az, "is listed twice", "list each zone once")
		seen[az] = true
	}
}

// validateEdge covers blocker 2: the domain, certificate and alert email must be
// wired, never silently missing.
func validateEdge(p *problems, s Stage, prod bool) {
	if s.DomainName == "" {
		p.add("domainName", s.DomainName, "is required (the ALB's host, used for APP_URL and the workers' API base)", "set -c domainName=app.example.com or stages."+s.Stage+".domainName in cdk.json")
	} else {
		p.check(reDomain.MatchString(s.DomainName), "domainName", s.DomainName, "is not a lowercase DNS name", "e.g. domainName=app.example.com")
	}
	switch {
	case prod && s.AllowHTTPOnly:
		p.add("allowHttpOnly", s.AllowHTTPOnly, "production must serve HTTPS", "remove allowHttpOnly and set certificateArn")
	case s.CertificateArn == "" && !s.AllowHTTPOnly:
		p.add("certificateArn", s.CertificateArn, "is required: without it the ALB would serve plain HTTP", "set -c certificateArn=arn:aws:acm:"+s.Region+":"+s.Account+":certificate/<id>, or for a non-production stage set allowHttpOnly=true explicitly")
	case s.CertificateArn != "" && s.AllowHTTPOnly:
		p.add("allowHttpOnly", s.AllowHTTPOnly, "contradicts the certificateArn that is set", "remove allowHttpOnly or certificateArn")
	case s.CertificateArn != "":
		p.check(certificateArnPattern(s.Region, s.Account).MatchString(s.CertificateArn), "certificateArn", s.CertificateArn,
			"must be an ACM certificate ARN in region "+s.Region+" and account "+s.Account, "use arn:aws:acm:"+s.Region+":"+s.Account+":certificate/<uuid>")
	}
	if s.AlertEmail == "" {
		p.check(!prod, "alertEmail", s.AlertEmail, "is required in production (alarms and budgets mail it)", "set -c alertEmail=ops@example.com")
	} else if a, err := mail.ParseAddress(s.AlertEmail); err != nil || a.Address != s.AlertEmail || !strings.Contains(a.Address[strings.LastIndex(a.Address, "@"):], ".") {
		p.add("alertEmail", s.AlertEmail, "is not a plain email address", "e.g. alertEmail=ops@example.com")
	}
}

func validateNetwork(p *problems, n Network, azCount int, prod bool) {
	for i, e := range n.InterfaceEndpoints {
		p.check(slices.Contains(InterfaceEndpointNames(), e) && !slices.Contains(n.InterfaceEndpoints[:i], e), fmt.Sprintf("network.interfaceEndpoints[%d]", i), e,
			"is not a known interface endpoint, or a repeat", "use some of "+strings.Join(InterfaceEndpointNames(), ", "))
	}
	p.check(slices.Contains(logRetentions, n.FlowLogRetentionDays), "network.flowLogRetentionDays", n.FlowLogRetentionDays, "is not a CloudWatch Logs retention", fmt.Sprintf("use one of %v", logRetentions))
	p.check(!prod || n.FlowLogRetentionDays >= 90, "network.flowLogRetentionDays", n.FlowLogRetentionDays, "production keeps VPC flow logs at least 90 days", "set network.flowLogRetentionDays=90 or more")
	vpc, err := netip.ParsePrefix(n.VpcCidr)
	if err != nil || !vpc.Addr().Is4() || vpc.Masked() != vpc {
		p.add("network.vpcCidr", n.VpcCidr, "is not an IPv4 network CIDR", "e.g. network.vpcCidr=10.0.0.0/16")
		return
	}
	p.check(vpc.Bits() >= 16 && vpc.Bits() <= 24, "network.vpcCidr", n.VpcCidr, "VPC size must be /16 to /24", "use a /16 to /24 CIDR")
	masks := map[string]int{"network.publicSubnetMask": n.PublicSubnetMask, "network.privateSubnetMask": n.PrivateSubnetMask, "network.isolatedSubnetMask": n.IsolatedSubnetMask}
	need := 0
	for _, key := range slices.Sorted(maps.Keys(masks)) {
		m := masks[key]
		if m <= vpc.Bits() || m > 28 {
			p.add(key, m, fmt.Sprintf("must be longer than the VPC's /%d and at most /28", vpc.Bits()), "choose a prefix length in that range")
			return
		}
		need += azCount << (32 - m)
	}
	if have := 1 << (32 - vpc.Bits()); need > have {
		p.add("network.vpcCidr", n.VpcCidr, fmt.Sprintf("%d subnets per zone x %d zones need %d addresses, the VPC has %d", 3, azCount, need, have),
			"use a larger VPC or longer subnet masks")
	}
	p.check(n.NatKind == "gateway" || n.NatKind == "instance", "network.natKind", n.NatKind, "must be gateway or instance", "set network.natKind=gateway")
	p.check(!(prod && n.NatKind == "instance"), "network.natKind", n.NatKind, "NAT instances are a single point of failure, for non-production stages only", "use network.natKind=gateway in production")
	p.check(n.NatCount >= 1 && n.NatCount <= azCount, "network.natCount", n.NatCount, fmt.Sprintf("must be 1 to the number of zones (%d)", azCount), "set network.natCount")
	p.check(rePrefixList.MatchString(n.S3PrefixListID), "network.s3PrefixListId", n.S3PrefixListID, "is not a prefix list id", "use the id of com.amazonaws.<region>.s3 (aws ec2 describe-managed-prefix-lists)")
	p.check(reInstance.MatchString(n.NatInstanceType), "network.natInstanceType", n.NatInstanceType, "is not an EC2 instance type", "e.g. network.natInstanceType=t4g.nano")
}

func validateDatabase(p *problems, d Database, prod bool) {
	p.check(reEngine.MatchString(d.EngineVersion), "database.engineVersion", d.EngineVersion, "must be a full MariaDB engine version", "e.g. database.engineVersion=10.11.15")
	p.check(reDBClass.MatchString(d.InstanceClass), "database.instanceClass", d.InstanceClass, "is not an RDS instance class", "e.g. database.instanceClass=db.t4g.small")
	p.between("database.allocatedStorageGb", d.AllocatedStorageGb, 20, 65536)
	p.check(d.MaxAllocatedStorageGb >= d.AllocatedStorageGb && d.MaxAllocatedStorageGb <= 65536, "database.maxAllocatedStorageGb", d.MaxAllocatedStorageGb,
		"must bound storage autoscaling: at least allocatedStorageGb and at most 65536", "e.g. database.maxAllocatedStorageGb=100")
	p.between("database.backupRetentionDays", d.BackupRetentionDays, 1, 35)
	p.between("database.maxConnections", d.MaxConnections, 10, 16000)
	p.check(d.RemovalPolicy == "snapshot" || d.RemovalPolicy == "retain", "database.removalPolicy", d.RemovalPolicy, "must be snapshot or retain", "set database.removalPolicy=snapshot")
	if prod {
		p.check(d.RemovalPolicy == "retain", "database.removalPolicy", d.RemovalPolicy, "production data is retained", "set database.removalPolicy=retain")
		p.check(d.DeletionProtection, "database.deletionProtection", d.DeletionProtection, "production needs deletion protection", "set database.deletionProtection=true")
	}
	seen := map[string]bool{}
	for i, db := range d.Databases {
		key := fmt.Sprintf("database.databases[%d]", i)
		p.check(reDBName.MatchString(db), key, db, "is not a safe database name", "use lowercase letters, digits and _")
		p.check(!seen[db], key, db, "is listed twice", "list each database once")
		seen[db] = true
	}
	for _, required := range []string{"bp", "tenant_pool_1", "tenant_pool_2"} {
		p.check(seen[required], "database.databases", d.Databases, "must include "+required+" (the Laravel app's connections use it)", "add "+required)
	}
	p.check(reDBUser.MatchString(d.AppUsername) && d.AppUsername != "root" && d.AppUsername != "admin", "database.appUsername", d.AppUsername,
		"must be a lowercase user name other than root/admin", "e.g. database.appUsername=bp_app")
}

func validateCache(p *problems, c Cache) {
	p.check(c.Engine == "valkey" || c.Engine == "redis", "cache.engine", c.Engine, "must be valkey or redis", "set cache.engine=valkey")
	p.check(reCacheVer.MatchString(c.EngineVersion), "cache.engineVersion", c.EngineVersion, "must be 7.x or 8.x", "e.g. cache.engineVersion=7.2")
	p.check(reCacheNode.MatchString(c.NodeType), "cache.nodeType", c.NodeType, "is not an ElastiCache node type", "e.g. cache.nodeType=cache.t4g.micro")
	p.between("cache.replicas", c.Replicas, 0, 5)
}

func validateMedia(p *problems, m Media, prod bool) {
	p.check(!prod || m.Versioned, "media.versioned", m.Versioned, "production keeps overwritten and deleted media as versions", "set media.versioned=true")
	if m.Versioned {
		p.between("media.noncurrentVersionDays", m.NoncurrentVersionDays, 1, 3650)
	}
	// The default *.cloudfront.net certificate accepts TLS 1.0; only a custom
	// domain gets the TLSv1.2_2021 policy.
	p.check(!prod || m.CdnDomainName != "", "media.cdnDomainName", m.CdnDomainName,
		"production media must be served with TLS 1.2 or later, which needs a custom domain", "set media.cdnDomainName and media.cdnCertificateArn (us-east-1)")
	p.check(slices.Contains([]string{"PriceClass_100", "PriceClass_200", "PriceClass_All"}, m.PriceClass), "media.priceClass", m.PriceClass,
		"is not a CloudFront price class", "use PriceClass_100, PriceClass_200 or PriceClass_All")
	p.check((m.CdnDomainName == "") == (m.CdnCertificateArn == ""), "media.cdnDomainName", m.CdnDomainName,
		"a custom media domain needs its certificate and the other way round", "set both media.cdnDomainName and media.cdnCertificateArn, or neither")
	if m.CdnDomainName != "" {
		p.check(reDomain.MatchString(m.CdnDomainName), "media.cdnDomainName", m.CdnDomainName, "is not a lowercase DNS name", "e.g. media.cdnDomainName=media.example.com")
	}
	if m.CdnCertificateArn != "" {
		p.check(strings.HasPrefix(m.CdnCertificateArn, "arn:aws:acm:us-east-1:"), "media.cdnCertificateArn", m.CdnCertificateArn,
			"CloudFront certificates must be ACM certificates in us-east-1", "issue the certificate in us-east-1")
	}
	p.check(m.InfrequentAccessDays >= 30, "media.infrequentAccessDays", m.InfrequentAccessDays, "S3 needs at least 30 days before Standard-IA", "set media.infrequentAccessDays >= 30")
	p.check(m.GlacierIrDays >= m.InfrequentAccessDays+30, "media.glacierIrDays", m.GlacierIrDays, "must come at least 30 days after infrequentAccessDays", "raise media.glacierIrDays")
	p.between("media.modelVersionsKeepDays", m.ModelVersionsKeepDays, 1, 3650)
}

func validateCluster(p *problems, c Cluster) {
	p.check(c.FargateWeight >= 0 && c.FargateSpotWeight >= 0 && c.FargateWeight+c.FargateSpotWeight > 0, "cluster.fargateWeight", fmt.Sprintf("%d/%d", c.FargateWeight, c.FargateSpotWeight),
		"capacity provider weights must be >= 0 and not both 0", "e.g. cluster.fargateWeight=1 cluster.fargateSpotWeight=1")
	p.between("cluster.fargateBase", c.FargateBase, 0, 100)
}

func validateService(p *problems, name string, s Service) {
	mem, ok := fargateCPU[s.Cpu]
	p.check(ok, name+".cpu", s.Cpu, "is not a Fargate CPU size", "use 256, 512, 1024, 2048 or 4096")
	if ok {
		p.check(s.MemoryMiB >= mem[0] && s.MemoryMiB <= mem[1] && s.MemoryMiB%1024 == 0 || s.Cpu == 256 && s.MemoryMiB == 512,
			name+".memoryMiB", s.MemoryMiB, fmt.Sprintf("is not a Fargate memory size for cpu %d", s.Cpu), fmt.Sprintf("use %d to %d MiB in 1024 steps", mem[0], mem[1]))
	}
	p.between(name+".minCount", s.MinCount, 0, 100)
	p.check(s.MaxCount >= s.MinCount && s.MaxCount >= 1 && s.MaxCount <= 100, name+".maxCount", s.MaxCount, "must be at least minCount and 1, at most 100", "raise "+name+".maxCount")
	p.between(name+".cpuTargetPercent", s.CpuTargetPercent, 10, 90)
}

func validateFleets(p *problems, fleets []Fleet) {
	p.check(len(fleets) >= 1, "fleets", len(fleets), "a stage needs at least one GPU fleet", "add a fleet in stages.<name>.fleets")
	seen := map[string]bool{}
	for i, f := range fleets {
		key := func(k string) string { return fmt.Sprintf("fleets[%d].%s", i, k) }
		p.check(reSlug.MatchString(f.Slug), key("slug"), f.Slug, "must be DNS-safe: lowercase letters, digits and -, starting with a letter, at most 30", "e.g. gpu-default")
		p.check(!seen[f.Slug], key("slug"), f.Slug, "is used by two fleets", "give each fleet its own slug")
		seen[f.Slug] = true
		p.check(len(f.InstanceTypes) >= 1, key("instanceTypes"), f.InstanceTypes, "must list at least one instance type (several give Spot more pools)", "e.g. [\"g4dn.xlarge\",\"g5.xlarge\"]")
		types := map[string]bool{}
		for j, it := range f.InstanceTypes {
			p.check(reInstance.MatchString(it) && !types[it], fmt.Sprintf("fleets[%d].instanceTypes[%d]", i, j), it, "must be a distinct EC2 instance type", "e.g. g5.xlarge")
			types[it] = true
		}
		p.between(key("maxSize"), f.MaxSize, 1, 100)
		p.between(key("warmupSeconds"), f.WarmupSeconds, 0, 3600)
		p.check(f.BacklogPerInstanceTarget > 0 && f.BacklogPerInstanceTarget <= 1000, key("backlogPerInstanceTarget"), f.BacklogPerInstanceTarget, "must be > 0", "e.g. 2")
		p.between(key("scaleToZeroMinutes"), f.ScaleToZeroMinutes, 1, 1440)
		p.between(key("rootVolumeGb"), f.RootVolumeGb, 30, 16384)
		p.between(key("onDemandPercent"), f.OnDemandPercent, 0, 100)
		p.check(f.ProtectedIdleLimitMinutes >= f.ScaleToZeroMinutes && f.ProtectedIdleLimitMinutes <= 1440, key("protectedIdleLimitMinutes"), f.ProtectedIdleLimitMinutes,
			"must be at least scaleToZeroMinutes and at most 1440", "e.g. 30")
		p.check(f.AmiID == "" || reAmiID.MatchString(f.AmiID), key("amiId"), f.AmiID, "is not an AMI id", "e.g. ami-0123456789abcdef0, or leave empty to use the SSM parameter")
		p.check(f.AmiID == "" || f.AmiParameter == "", key("amiParameter"), f.AmiParameter, "set together with amiId", "set only one of amiId and amiParameter")
		p.check(f.AmiParameter == "" || reSSMParam.MatchString(f.AmiParameter), key("amiParameter"), f.AmiParameter, "is not an SSM parameter name", "e.g. /bp/ami/fleets/staging/gpu-default")
		validateCapacity(p, key, f)
	}
}

func validateSchedule(p *problems, s FleetSchedule, prod bool) {
	p.check(!(prod && s.NightlyScaleToZero), "fleetSchedule.nightlyScaleToZero", s.NightlyScaleToZero, "would stop production jobs every night", "set it only on non-production stages")
	p.check(!s.NightlyScaleToZero || reCron.MatchString(s.Cron), "fleetSchedule.cron", s.Cron, "must be a 5-field UTC cron expression", "e.g. fleetSchedule.cron=0 22 * * *")
}

func validateAlarms(p *problems, a Alarms) {
	// Every whole-number threshold must be positive; read from the struct so a
	// new threshold is checked without being listed twice.
	v := reflect.ValueOf(a)
	for i := 0; i < v.NumField(); i++ {
		if v.Field(i).Kind() != reflect.Int {
			continue
		}
		key, n := "alarms."+strings.Split(v.Type().Field(i).Tag.Get("json"), ",")[0], int(v.Field(i).Int())
		p.check(n >= 1, key, n, "alarm thresholds must be positive", "set "+key+" >= 1")
	}
	p.check(a.Alb5xxCritical > a.Alb5xxWarning, "alarms.alb5xxCritical", a.Alb5xxCritical, "must be above alb5xxWarning", "raise alarms.alb5xxCritical")
	p.check(a.LatencyP95Seconds > 0, "alarms.latencyP95Seconds", a.LatencyP95Seconds, "must be > 0", "e.g. 2")
}

// wafMinRate is the smallest limit of an AWS WAF rate-based rule (AWS WAF
// Developer Guide, rate-based rule statement: "the minimum is 10").
const wafMinRate = 10

func validateWaf(p *problems, s Stage) {
	w := s.Waf
	p.check(!s.IsProduction() || w.Enabled, "waf.enabled", w.Enabled, "must be true in production: the public ALB needs the managed rules and rate limits", "set waf.enabled=true")
	if w.Enabled {
		p.between("waf.apiRequestsPer5Min", w.APIRequestsPer5Min, wafMinRate, 2_000_000_000)
		// Every GPU worker of the stage registers from the NAT's addresses;
		// a limit below the fleets' size would lock out a scale-out.
		workers := 0
		for _, f := range s.Fleets {
			workers += f.MaxSize
		}
		p.check(w.RegisterRequestsPer5Min >= max(wafMinRate, 2*workers) && w.RegisterRequestsPer5Min <= 2_000_000_000, "waf.registerRequestsPer5Min", w.RegisterRequestsPer5Min,
			fmt.Sprintf("must be at least %d (twice the %d GPU workers the fleets may run, which all register through the stage's NAT addresses)", max(wafMinRate, 2*workers), workers),
			"raise waf.registerRequestsPer5Min")
	}
	if m := s.Media.WafRequestsPer5Min; m != 0 {
		p.between("media.wafRequestsPer5Min", m, wafMinRate, 2_000_000_000)
		// CloudFront web ACLs exist only in us-east-1 (AWS WAF: "For CLOUDFRONT,
		// you must create your WAFv2 resources in the US East (N. Virginia) Region").
		p.check(s.Region == "us-east-1", "media.wafRequestsPer5Min", m, "needs the stage in us-east-1: CloudFront web ACLs live only there", "set media.wafRequestsPer5Min=0 for a stage in "+s.Region)
	}
}

var (
	reGitHubRepo = regexp.MustCompile(`^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$`)
	reQualifier  = regexp.MustCompile(`^[a-z0-9]{1,10}$`)
)

func validateCi(p *problems, s Stage) {
	c := s.Ci
	p.check(reGitHubRepo.MatchString(c.GitHubRepository), "ci.githubRepository", c.GitHubRepository, "must be <owner>/<repo> of the GitHub repository that deploys", "e.g. ci.githubRepository=my-org/bp-infra")
	p.check(c.OidcProviderArn == "" || c.OidcProviderArn == "arn:aws:iam::"+s.Account+":oidc-provider/token.actions.githubusercontent.com", "ci.oidcProviderArn", c.OidcProviderArn,
		"must be the account's GitHub OIDC provider", "use arn:aws:iam::"+s.Account+":oidc-provider/token.actions.githubusercontent.com, or leave it empty to create it")
	p.check(reQualifier.MatchString(c.BootstrapQualifier), "ci.bootstrapQualifier", c.BootstrapQualifier, "is not a CDK bootstrap qualifier", "use the default hnb659fds or the --qualifier of cdk bootstrap")
}
