package main

import (
	"regexp"
	"slices"
	"strings"

	"github.com/bp/infra/internal/cfn"
)

// stageFacts are the structural facts of a stage the usage projection needs,
// read from its synthesized templates; the profile gives the volumes.
type stageFacts struct {
	Stage       string
	Fleets      []fleetFacts
	NATGateways int
	// NATInstances holds the instance type of each NAT instance.
	NATInstances []string
	AZs          int // distinct availability zones of the subnets; 0 = unknown
	S3Gateway    bool
	// InterfaceEndpoints holds the service suffixes, e.g. "ecr.dkr".
	InterfaceEndpoints []string
	PublicALB          bool
	Databases          []dbFacts
	LogGroups          []logGroupFacts
	Distributions      []cdnFacts
}

type fleetFacts struct {
	Name             string
	Types            []string // launch order; the first is priced
	OnDemandFraction float64
	OnDemandBase     float64
	EBSMonthly       float64 // $ per instance-month of its volumes
	EBSGB            float64
}

type dbFacts struct {
	ID                       string
	AllocatedGB, MaxGB       float64
	MultiAZ                  bool
	StorageType              string
	PerformanceInsights      bool
	PerformanceInsightsDays  float64
	PerformanceInsightsKnown bool
}

type logGroupFacts struct {
	Name          string
	RetentionDays float64 // 0 = never expires
}

type cdnFacts struct {
	ID, PriceClass string
}

// gpuFamily matches the GPU instance families (g4dn, g5, g6e, p4d, ...).
var gpuFamily = regexp.MustCompile(`^[gp]\d`)

// readStageFacts reads the facts of one stage's stacks.
func readStageFacts(stage string, stacks []cfn.Stack, p *Prices) stageFacts {
	f := stageFacts{Stage: stage}
	azs := map[string]bool{}
	for _, st := range stacks {
		if st.Stage != stage {
			continue
		}
		e := newStackEstimate(st, p)
		for _, id := range st.Template.LogicalIDs() {
			res := st.Template.Resources[id]
			if !e.created(id, res) {
				continue
			}
			props := res.Properties
			switch res.Type {
			case "AWS::AutoScaling::AutoScalingGroup":
				if fl, ok := e.fleetFacts(id, res); ok {
					f.Fleets = append(f.Fleets, fl)
				}
			case "AWS::EC2::NatGateway":
				if ct, err := e.r.String(props["ConnectivityType"]); err != nil || ct != "private" {
					f.NATGateways++
				}
			case "AWS::EC2::Instance":
				if b, err := e.r.Bool(props["SourceDestCheck"]); err == nil && !b {
					t, _ := e.instanceType(props["InstanceType"], props["LaunchTemplate"])
					f.NATInstances = append(f.NATInstances, t)
				}
			case "AWS::EC2::Subnet":
				if az, err := e.r.String(props["AvailabilityZone"]); err == nil {
					azs[az] = true
				}
			case "AWS::EC2::VPCEndpoint":
				svc := serviceName(props["ServiceName"])
				typ, _ := e.r.String(props["VpcEndpointType"])
				suffix := svc // com.amazonaws.<region>.<service>: keep <service>
				if parts := strings.SplitN(svc, ".", 4); len(parts) == 4 {
					suffix = parts[3]
				}
				if typ == "Interface" {
					f.InterfaceEndpoints = append(f.InterfaceEndpoints, suffix)
				} else if suffix == "s3" {
					f.S3Gateway = true
				}
			case "AWS::ElasticLoadBalancingV2::LoadBalancer":
				if s, err := e.r.String(props["Scheme"]); err != nil || s != "internal" {
					f.PublicALB = true
				}
			case "AWS::RDS::DBInstance":
				f.Databases = append(f.Databases, e.dbFacts(id, props))
			case "AWS::Logs::LogGroup":
				days := 0.0
				if v, ok := props["RetentionInDays"]; ok {
					days, _ = e.r.Number(v)
				}
				f.LogGroups = append(f.LogGroups, logGroupFacts{Name: e.displayName(id, res, "LogGroupName"), RetentionDays: days})
			case "AWS::CloudFront::Distribution":
				cfg, _ := props["DistributionConfig"].(map[string]any)
				class := "PriceClass_All"
				if v, ok := cfg["PriceClass"]; ok {
					class, _ = e.r.String(v)
				}
				f.Distributions = append(f.Distributions, cdnFacts{ID: id, PriceClass: class})
			}
		}
	}
	f.AZs = len(azs)
	slices.Sort(f.InterfaceEndpoints)
	return f
}

func (f stageFacts) hasInterfaceEndpoint(suffix string) bool {
	return slices.Contains(f.InterfaceEndpoints, suffix)
}

// fleetFacts reads a GPU Auto Scaling group; other groups are not fleets.
func (e *stackEstimate) fleetFacts(id string, res cfn.Resource) (fleetFacts, bool) {
	props := res.Properties
	types, ltData, err := e.asgInstanceTypes(props)
	if err != nil || !gpuFamily.MatchString(types[0]) {
		return fleetFacts{}, false
	}
	fl := fleetFacts{Name: e.displayName(id, res, "AutoScalingGroupName"), Types: types}
	// The share of instance-hours on-demand: the base capacity runs
	// on-demand, so with a base the first instance (most hours) is on-demand.
	if mip, ok := props["MixedInstancesPolicy"].(map[string]any); ok {
		dist, _ := mip["InstancesDistribution"].(map[string]any)
		base, _ := e.r.Number(dist["OnDemandBaseCapacity"])
		pct := 100.0
		if v, err := e.r.Number(dist["OnDemandPercentageAboveBaseCapacity"]); err == nil {
			pct = v
		}
		fl.OnDemandBase = base
		fl.OnDemandFraction = pct / 100
		if base >= 1 {
			fl.OnDemandFraction = 1
		}
	} else if !isSpotOnly(e, props, ltData) {
		fl.OnDemandFraction = 1
	}
	if ltData != nil {
		list, _ := ltData["BlockDeviceMappings"].([]any)
		for _, bdm := range list {
			m, _ := bdm.(map[string]any)
			ebs, _ := m["Ebs"].(map[string]any)
			size, err := e.r.Number(ebs["VolumeSize"])
			if ebs == nil || err != nil {
				continue
			}
			vt := "gp2"
			if v, ok := ebs["VolumeType"]; ok {
				vt, _ = e.r.String(v)
			}
			if price, ok := e.ebsPrice(vt); ok {
				fl.EBSGB += size
				fl.EBSMonthly += size * price
			}
		}
	}
	return fl, true
}

func (e *stackEstimate) dbFacts(id string, props map[string]any) dbFacts {
	d := dbFacts{ID: e.displayName(id, cfn.Resource{Properties: props}, "DBInstanceIdentifier"), StorageType: "gp2"}
	d.AllocatedGB, _ = e.r.Number(props["AllocatedStorage"])
	d.MaxGB = d.AllocatedGB
	if v, ok := props["MaxAllocatedStorage"]; ok {
		if m, err := e.r.Number(v); err == nil && m > d.MaxGB {
			d.MaxGB = m
		}
	}
	d.MultiAZ, _ = e.r.Bool(props["MultiAZ"])
	if v, ok := props["StorageType"]; ok {
		d.StorageType, _ = e.r.String(v)
	}
	pi, err := e.r.Bool(props["EnablePerformanceInsights"])
	d.PerformanceInsights = err == nil && pi
	d.PerformanceInsightsDays, d.PerformanceInsightsKnown = 7, true
	if v, ok := props["PerformanceInsightsRetentionPeriod"]; ok {
		days, err := e.r.Number(v)
		d.PerformanceInsightsDays, d.PerformanceInsightsKnown = days, err == nil
	}
	return d
}
