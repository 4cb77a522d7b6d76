package main

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// Projection is what a stage costs per month on top of its fixed idle total
// under a usage profile: one line per cost hotspot, with the formula that
// drives it.
type Projection struct {
	Stage       string        `json:"stage"`
	Profile     string        `json:"profile"`
	ProfilePath string        `json:"profile_path"`
	Lines       []HotspotLine `json:"lines"`
	MonthlyUSD  float64       `json:"monthly_usd"`
	// InternalALB is the break-even of an internal ALB for the GPU workers.
	InternalALB *BreakEven `json:"internal_alb_break_even,omitempty"`
	// Placeholders are profile fields that stand in for a measurement.
	Placeholders []Placeholder `json:"placeholders,omitempty"`
	// Unpriced lists parts of lines the price file cannot price.
	Unpriced []string `json:"unpriced,omitempty"`
	// Note says why a stage has no projection.
	Note string `json:"note,omitempty"`
}

// HotspotLine is one hotspot's monthly cost and its driver.
type HotspotLine struct {
	Hotspot    string  `json:"hotspot"` // gpu, nat, logs, rds, egress
	Subject    string  `json:"subject"` // the fleet, database, ... it is about
	Driver     string  `json:"driver"`
	MonthlyUSD float64 `json:"monthly_usd"`
	Terms      []Term  `json:"terms"`
	// StuckPerDay is what one instance left running costs per day (GPU lines).
	StuckPerDay *StuckCost `json:"stuck_instance_per_day,omitempty"`
}

// Key identifies a line across two projections (for diffs).
func (l HotspotLine) Key() string { return l.Hotspot + "/" + l.Subject }

// Term is one priced quantity of a line.
type Term struct {
	Item         string  `json:"item"`
	Quantity     float64 `json:"quantity"`
	Unit         string  `json:"unit"`
	UnitPriceUSD float64 `json:"unit_price_usd"`
	MonthlyUSD   float64 `json:"monthly_usd"`
}

// StuckCost is the daily cost of one instance that never scales in.
type StuckCost struct {
	InstanceType string  `json:"instance_type"`
	SpotUSD      float64 `json:"spot_usd"`
	OnDemandUSD  float64 `json:"on_demand_usd"`
	EBSUSD       float64 `json:"ebs_usd"`
}

// BreakEven compares an internal ALB's fixed cost with the NAT charges it
// would remove from the workers' calls to the backend.
type BreakEven struct {
	FixedMonthlyUSD  float64 `json:"fixed_monthly_usd"`
	NATPerGBUSD      float64 `json:"nat_processing_per_gb_usd"`
	TransferPerGBUSD float64 `json:"public_ipv4_transfer_per_gb_usd"`
	// BreakEvenGB is on NAT processing alone; WithTransferGB also counts the
	// same-region public-IPv4 transfer the internal path avoids. 0 = never.
	BreakEvenGB    float64 `json:"break_even_gb_per_month"`
	WithTransferGB float64 `json:"break_even_gb_per_month_with_transfer"`
	ProfileGB      float64 `json:"profile_gb_per_month"`
	Worth          bool    `json:"worth_it"`
	Text           string  `json:"text"`
}

// Placeholder names a profile field still waiting for a measurement.
type Placeholder struct {
	Field  string `json:"field"`
	Source string `json:"source"`
}

const gib = 1 << 30 // AWS bills data in GB of 2^30 bytes

// project computes a stage's usage projection.
func project(f stageFacts, pr *Profile, p *Prices) Projection {
	proj := Projection{Stage: f.Stage, Profile: pr.Name, ProfilePath: pr.Path}
	gpu, instanceHours := projectGPU(f, pr, p)
	proj.Lines = append(proj.Lines, gpu...)
	nat, apiGB := projectNAT(f, pr, p, instanceHours)
	proj.Lines = append(proj.Lines, nat)
	proj.Lines = append(proj.Lines, projectLogs(f, pr, p))
	for _, db := range f.Databases {
		line, unpriced := projectDatabase(db, pr, p)
		proj.Lines = append(proj.Lines, line)
		proj.Unpriced = append(proj.Unpriced, unpriced...)
	}
	proj.Lines = append(proj.Lines, projectEgress(f, pr, p))
	for _, l := range proj.Lines {
		proj.MonthlyUSD += l.MonthlyUSD
	}
	if f.PublicALB && len(f.Fleets) > 0 && f.NATGateways+len(f.NATInstances) > 0 {
		proj.InternalALB = internalALBBreakEven(f, p, apiGB)
	}
	for _, field := range pr.fields() {
		if field.q.Placeholder {
			proj.Placeholders = append(proj.Placeholders, Placeholder{Field: field.name, Source: field.q.Source})
		}
	}
	return proj
}

func (l *HotspotLine) term(item string, qty float64, unit string, price float64) float64 {
	t := Term{Item: item, Quantity: qty, Unit: unit, UnitPriceUSD: price, MonthlyUSD: qty * price}
	l.Terms = append(l.Terms, t)
	l.MonthlyUSD += t.MonthlyUSD
	return t.MonthlyUSD
}

// projectGPU prices the instance-hours of each GPU fleet: the GPU-minutes
// of the jobs plus each instance start's overhead (boot, model sync, idle
// minutes before scale-in). Jobs split evenly when there are several fleets.
func projectGPU(f stageFacts, pr *Profile, p *Prices) ([]HotspotLine, float64) {
	if len(f.Fleets) == 0 {
		return []HotspotLine{{Hotspot: "gpu", Subject: "none", Driver: "no GPU Auto Scaling group in the templates"}}, 0
	}
	share := 1 / float64(len(f.Fleets))
	var lines []HotspotLine
	total := 0.0
	for _, fl := range f.Fleets {
		l := HotspotLine{Hotspot: "gpu", Subject: fl.Name}
		jobs, starts := pr.JobsPerMonth.V()*share, pr.InstanceStartsPerMonth.V()*share
		busy := jobs * pr.GPUMinutesPerJob.V() / 60
		overhead := starts * pr.OverheadMinutesPerStart.V() / 60
		hours := busy + overhead
		total += hours
		it := fl.Types[0]
		od, ok := p.EC2.InstanceHour[it]
		if !ok {
			l.Driver = fmt.Sprintf("%s h of %s: UNPRICED, instance type %s has no price in the price file", fmtQty(hours), it, it)
			lines = append(lines, l)
			continue
		}
		spot := od * p.EC2.SpotFraction
		odHours := hours * fl.OnDemandFraction
		spotHours := hours - odHours
		var b strings.Builder
		fmt.Fprintf(&b, "%s: %s jobs × %s min = %s h + %s starts × %s min = %s h;", fl.Name,
			fmtCount(jobs), fmtQty(pr.GPUMinutesPerJob.V()), fmtQty(busy), fmtCount(starts), fmtQty(pr.OverheadMinutesPerStart.V()), fmtQty(overhead))
		if spotHours > 0 {
			c := l.term("Spot "+it, spotHours, "instance-hours", spot)
			fmt.Fprintf(&b, " %s h × %s/h Spot %s = %s", fmtQty(spotHours), unitPrice(spot), it, usd(c))
		}
		if odHours > 0 {
			c := l.term("on-demand "+it, odHours, "instance-hours", od)
			if spotHours > 0 {
				b.WriteString(" +")
			}
			fmt.Fprintf(&b, " %s h × %s/h on-demand %s = %s", fmtQty(odHours), unitPrice(od), it, usd(c))
		}
		if fl.EBSGB > 0 {
			c := l.term(fmt.Sprintf("EBS %s GB while running", fmtQty(fl.EBSGB)), hours/p.HoursPerMonth, "instance-months", fl.EBSMonthly)
			fmt.Fprintf(&b, " + EBS %s GB = %s", fmtQty(fl.EBSGB), usd(c))
		}
		if len(fl.Types) > 1 {
			fmt.Fprintf(&b, " (priced as %s, the first of %s)", it, strings.Join(fl.Types, ", "))
		}
		l.StuckPerDay = &StuckCost{InstanceType: it, SpotUSD: spot * 24, OnDemandUSD: od * 24, EBSUSD: p.Day(fl.EBSMonthly)}
		fmt.Fprintf(&b, "; a stuck instance costs %s/day Spot / %s/day on-demand (+%s/day EBS)", usd(spot*24), usd(od*24), usd(p.Day(fl.EBSMonthly)))
		l.Driver = b.String()
		lines = append(lines, l)
	}
	return lines, total
}

// projectNAT prices what goes through NAT: the workers' calls to the
// backend's public ALB, anything else the profile puts there, and S3/ECR
// traffic only when no S3 gateway endpoint carries it (ECR serves image
// layers from S3). It returns the worker<->backend GB for the break-even.
func projectNAT(f stageFacts, pr *Profile, p *Prices, instanceHours float64) (HotspotLine, float64) {
	l := HotspotLine{Hotspot: "nat", Subject: "egress"}
	apiGB := 0.0
	var b strings.Builder
	natCount := f.NATGateways + len(f.NATInstances)
	switch {
	case f.NATGateways > 0:
		fmt.Fprintf(&b, "NAT gateway x%d:", f.NATGateways)
	case len(f.NATInstances) > 0:
		fmt.Fprintf(&b, "NAT instance %s x%d (no per-GB processing fee):", strings.Join(uniq(f.NATInstances), "/"), len(f.NATInstances))
	default:
		l.Driver = "no NAT in the templates: private subnets have no internet path to price"
		return l, 0
	}
	jobs := pr.JobsPerMonth.V()
	s3GB := (jobs*pr.WorkerS3BytesPerJob.V() + pr.InstanceStartsPerMonth.V()*pr.ModelSyncBytesPerStart.V()) / gib
	imageGB := pr.TaskStartsPerMonth.V() * pr.ImagePullBytesPerTaskStart.V() / gib
	natGB := pr.OtherNATGBPerMonth.V()
	if f.PublicALB {
		apiGB = (jobs*pr.WorkerAPIBytesPerJob.V() + instanceHours*pr.WorkerAPIBytesPerInstanceHour.V()) / gib
		natGB += apiGB
		fmt.Fprintf(&b, " worker↔backend %s jobs × %s + %s instance-h × %s = %s GB%s;", fmtCount(jobs), fmtBytes(pr.WorkerAPIBytesPerJob.V()),
			fmtQty(instanceHours), fmtBytes(pr.WorkerAPIBytesPerInstanceHour.V()), fmtGB(apiGB), placeholderMark(pr.WorkerAPIBytesPerJob, pr.WorkerAPIBytesPerInstanceHour))
	} else {
		b.WriteString(" the ALB is internal: worker↔backend stays in the VPC;")
	}
	fmt.Fprintf(&b, " other %s GB;", fmtGB(pr.OtherNATGBPerMonth.V()))
	// Logs that tasks and instances send themselves leave through the logs
	// interface endpoint when there is one, else through NAT.
	vpcLogGB := pr.LogGBPerDay.V() * p.DaysPerMonth() * pr.VPCSentLogFraction.V()
	if f.hasInterfaceEndpoint("logs") {
		c := l.term("logs interface endpoint data processed", vpcLogGB, "GB", p.InterfaceEndpoint.PerGB)
		fmt.Fprintf(&b, " logs sent from the VPC %s GB via the logs endpoint × %s = %s;", fmtGB(vpcLogGB), unitPrice(p.InterfaceEndpoint.PerGB), usd(c))
	} else {
		natGB += vpcLogGB
		fmt.Fprintf(&b, " logs sent from the VPC %s GB (no logs endpoint);", fmtGB(vpcLogGB))
	}
	s3Path := "the S3 gateway endpoint carries, free,"
	if !f.S3Gateway {
		natGB += s3GB + imageGB
		s3Path = "no S3 gateway endpoint: NAT also carries"
	}
	if f.NATGateways > 0 {
		c := l.term("NAT gateway data processed", natGB, "GB", p.NATGateway.PerGB)
		fmt.Fprintf(&b, " %s GB × %s = %s processing;", fmtGB(natGB), unitPrice(p.NATGateway.PerGB), usd(c))
	} else {
		fmt.Fprintf(&b, " %s GB through the instance;", fmtGB(natGB))
	}
	if apiGB > 0 {
		each := p.DataTransfer.PublicIPv4GBEachWay
		c := l.term("same-region public-IPv4 transfer, NAT to ALB (both sides)", apiGB, "GB", 2*each)
		fmt.Fprintf(&b, " public-IPv4 transfer to the ALB %s GB × %s = %s;", fmtGB(apiGB), unitPrice(2*each), usd(c))
	}
	if f.AZs > 0 {
		cross := 1 - math.Min(float64(natCount), float64(f.AZs))/float64(f.AZs)
		if cross > 0 {
			each := p.DataTransfer.CrossAZGBEachWay
			c := l.term("cross-AZ transfer to the NAT (both sides)", natGB*cross, "GB", 2*each)
			fmt.Fprintf(&b, " cross-AZ to %d NAT for %d AZs: %s GB × %s = %s;", natCount, f.AZs, fmtGB(natGB*cross), unitPrice(2*each), usd(c))
		}
	}
	fmt.Fprintf(&b, " %s job and model-sync S3 bytes %s GB and ECR image layers %s GB (%s task starts × %s, ECR serves layers from S3)",
		s3Path, fmtGB(s3GB), fmtGB(imageGB), fmtCount(pr.TaskStartsPerMonth.V()), fmtBytes(pr.ImagePullBytesPerTaskStart.V()))
	l.Driver = b.String()
	return l, apiGB
}

// internalALBBreakEven: an internal ALB costs its hourly price (its LCUs
// move from the public ALB, so they cancel) and removes NAT processing and
// the same-region public-IPv4 transfer from the workers' backend calls.
func internalALBBreakEven(f stageFacts, p *Prices, apiGB float64) *BreakEven {
	be := &BreakEven{FixedMonthlyUSD: p.Month(p.ALB.Hour), TransferPerGBUSD: 2 * p.DataTransfer.PublicIPv4GBEachWay, ProfileGB: apiGB}
	if f.NATGateways > 0 {
		be.NATPerGBUSD = p.NATGateway.PerGB
		be.BreakEvenGB = be.FixedMonthlyUSD / be.NATPerGBUSD
	}
	be.WithTransferGB = be.FixedMonthlyUSD / (be.NATPerGBUSD + be.TransferPerGBUSD)
	be.Worth = apiGB > be.WithTransferGB
	var b strings.Builder
	fmt.Fprintf(&b, "internal ALB for the GPU workers: %s/month (%s/h; its LCUs move from the public ALB) ", usd(be.FixedMonthlyUSD), unitPrice(p.ALB.Hour))
	if be.BreakEvenGB > 0 {
		fmt.Fprintf(&b, "vs %s/GB NAT processing on worker↔backend bytes: break-even %s GB/month (%s GB counting the %s/GB public-IPv4 transfer it also avoids)",
			unitPrice(be.NATPerGBUSD), fmtCount(be.BreakEvenGB), fmtCount(be.WithTransferGB), unitPrice(be.TransferPerGBUSD))
	} else {
		fmt.Fprintf(&b, "vs the %s/GB public-IPv4 transfer (NAT instances charge no processing): break-even %s GB/month", unitPrice(be.TransferPerGBUSD), fmtCount(be.WithTransferGB))
	}
	verdict := "not worth it yet"
	if be.Worth {
		verdict = "worth it"
	}
	fmt.Fprintf(&b, "; this profile: %s GB/month: %s", fmtGB(apiGB), verdict)
	be.Text = b.String()
	return be
}

// projectLogs prices log ingestion and the steady-state stored volume under
// the longest retention (stored bytes are billed compressed, so this is an
// upper bound); groups that never expire keep growing until the horizon.
func projectLogs(f stageFacts, pr *Profile, p *Prices) HotspotLine {
	l := HotspotLine{Hotspot: "logs", Subject: "cloudwatch"}
	gbDay := pr.LogGBPerDay.V()
	days := p.DaysPerMonth()
	ingest := l.term("CloudWatch Logs ingested", gbDay*days, "GB", p.CloudWatch.LogsIngestedGB)
	longest, never := 0.0, 0
	for _, g := range f.LogGroups {
		if g.RetentionDays == 0 {
			never++
		}
		longest = math.Max(longest, g.RetentionDays)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s GB/day × %s days × %s/GB = %s ingested;", fmtGB(gbDay), fmtQty(days), unitPrice(p.CloudWatch.LogsIngestedGB), usd(ingest))
	switch {
	case len(f.LogGroups) == 0:
		b.WriteString(" no log group in the templates")
	case never > 0:
		months := pr.ProjectionMonths.V()
		stored := gbDay * days * months
		c := l.term("CloudWatch Logs stored (groups that never expire)", stored, "GB-months", p.CloudWatch.LogsStoredGBMonth)
		fmt.Fprintf(&b, " %d of %d groups never expire: after %s months up to %s GB stored × %s = %s (and growing)", never, len(f.LogGroups), fmtQty(months), fmtGB(stored), unitPrice(p.CloudWatch.LogsStoredGBMonth), usd(c))
	default:
		stored := gbDay * longest
		c := l.term("CloudWatch Logs stored (steady state)", stored, "GB-months", p.CloudWatch.LogsStoredGBMonth)
		fmt.Fprintf(&b, " stored %s GB/day × %s-day retention (longest of %d groups) = %s GB × %s = %s (upper bound: stored bytes are billed compressed)",
			fmtGB(gbDay), fmtQty(longest), len(f.LogGroups), fmtGB(stored), unitPrice(p.CloudWatch.LogsStoredGBMonth), usd(c))
	}
	l.Driver = b.String()
	return l
}

// projectDatabase prices storage growth at the horizon: RDS storage
// autoscaling grows the allocation when free space falls under 10%, up to
// MaxAllocatedStorage. Only the growth is on top of the fixed total.
// Performance Insights beyond the free retention is not in the price file.
func projectDatabase(db dbFacts, pr *Profile, p *Prices) (HotspotLine, []string) {
	l := HotspotLine{Hotspot: "rds", Subject: db.ID}
	months := pr.ProjectionMonths.V()
	data := pr.RDSDataGB.V() + pr.RDSGrowthGBPerMonth.V()*months
	need := data / 0.9
	rates, ok := p.RDS.StorageGBMonth[db.StorageType]
	rate := rates.SingleAZ
	az := "single-AZ"
	if db.MultiAZ {
		rate, az = rates.MultiAZ, "Multi-AZ"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s: data %s GB + %s GB/month × %s months = %s GB, needs %s GB allocated to keep 10%% free;", db.ID,
		fmtGB(pr.RDSDataGB.V()), fmtGB(pr.RDSGrowthGBPerMonth.V()), fmtQty(months), fmtGB(data), fmtGB(need))
	var unpriced []string
	switch {
	case !ok:
		unpriced = append(unpriced, fmt.Sprintf("%s: storage type %s has no price in the price file", db.ID, db.StorageType))
		b.WriteString(" UNPRICED: storage type " + db.StorageType + " has no price")
	case need > db.AllocatedGB && db.MaxGB <= db.AllocatedGB:
		fmt.Fprintf(&b, " NO STORAGE AUTOSCALING: the %s GB allocated run out before month %s", fmtQty(db.AllocatedGB), fmtQty(months))
	case need <= db.AllocatedGB:
		fmt.Fprintf(&b, " fits the %s GB allocated (max %s GB): no growth cost at month %s", fmtQty(db.AllocatedGB), fmtQty(db.MaxGB), fmtQty(months))
	default:
		alloc := math.Min(need, db.MaxGB)
		c := l.term(fmt.Sprintf("RDS %s storage grown by autoscaling (%s)", db.StorageType, az), alloc-db.AllocatedGB, "GB-months", rate)
		fmt.Fprintf(&b, " autoscaling grows %s GB to %s GB: +%s GB × %s = %s/month at month %s", fmtQty(db.AllocatedGB), fmtGB(alloc), fmtGB(alloc-db.AllocatedGB), unitPrice(rate), usd(c), fmtQty(months))
		if need > db.MaxGB {
			fmt.Fprintf(&b, "; REACHES MaxAllocatedStorage %s GB: the database runs out of space", fmtQty(db.MaxGB))
		}
	}
	b.WriteString("; backups up to the DB size are free")
	switch {
	case !db.PerformanceInsights:
		b.WriteString("; Performance Insights off")
	case db.PerformanceInsightsKnown && db.PerformanceInsightsDays <= p.RDS.PerformanceInsightsFree:
		fmt.Fprintf(&b, "; Performance Insights %s-day retention: free", fmtQty(db.PerformanceInsightsDays))
	default:
		msg := fmt.Sprintf("%s: Performance Insights retention %s days is billed per vCPU-month (no price in the price file)", db.ID, fmtQty(db.PerformanceInsightsDays))
		unpriced = append(unpriced, msg)
		b.WriteString("; UNPRICED: Performance Insights retention beyond the free days")
	}
	l.Driver = b.String()
	return l, unpriced
}

// projectEgress prices media delivered through CloudFront and bytes that
// leave S3 for the internet directly. S3 to CloudFront is free.
func projectEgress(f stageFacts, pr *Profile, p *Prices) HotspotLine {
	l := HotspotLine{Hotspot: "egress", Subject: "media"}
	var b strings.Builder
	gb, req := pr.CloudFrontGBPerMonth.V(), pr.CloudFrontRequestsPerMonth.V()
	if len(f.Distributions) == 0 {
		b.WriteString("no CloudFront distribution in the templates;")
	} else {
		var classes []string
		for _, d := range f.Distributions {
			classes = append(classes, d.PriceClass)
		}
		c1 := l.term("CloudFront data transfer out", gb, "GB", p.CloudFront.PerGB)
		c2 := l.term("CloudFront HTTPS requests", req/10000, "10,000 requests", p.CloudFront.Per10kHTTPSCalls)
		fmt.Fprintf(&b, "CloudFront (%s) %s GB × %s = %s + %s requests × %s/10k = %s;", strings.Join(uniq(classes), ", "),
			fmtGB(gb), unitPrice(p.CloudFront.PerGB), usd(c1), fmtCount(req), unitPrice(p.CloudFront.Per10kHTTPSCalls), usd(c2))
		for _, c := range uniq(classes) {
			if c != p.CloudFront.PricedClass {
				fmt.Fprintf(&b, " %s also serves from dearer edges than the NA/EU price used;", c)
			}
		}
	}
	s3 := pr.S3InternetEgressGBPerMonth.V()
	c := l.term("S3 data transfer out to the internet", s3, "GB", p.DataTransfer.InternetOutGB)
	fmt.Fprintf(&b, " S3 straight to the internet %s GB × %s = %s; S3 to CloudFront is free; free tiers (CloudFront 1 TB, 100 GB internet egress) not applied", fmtGB(s3), unitPrice(p.DataTransfer.InternetOutGB), usd(c))
	l.Driver = b.String()
	return l
}

func placeholderMark(qs ...Quantity) string {
	for _, q := range qs {
		if q.Placeholder {
			return " (placeholder)"
		}
	}
	return ""
}

func uniq(list []string) []string {
	var out []string
	for _, s := range list {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// fmtCount writes 12000 as 12,000 (rounded to a whole number).
func fmtCount(v float64) string {
	s := fmt.Sprintf("%.0f", math.Round(v))
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	if neg {
		s = "-" + s
	}
	return s
}

// fmtGB shows GB with up to two decimals, thousands separated.
func fmtGB(v float64) string {
	if v >= 1000 {
		return fmtCount(v)
	}
	return fmtQty(v)
}

// fmtBytes shows a byte count in binary units (KB = 1024 bytes, as AWS bills).
func fmtBytes(v float64) string {
	units := []string{"B", "KB", "MB", "GB", "TB"}
	i := 0
	for v >= 1024 && i < len(units)-1 {
		v /= 1024
		i++
	}
	return fmtQty(math.Round(v*100)/100) + " " + units[i]
}
