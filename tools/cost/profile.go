package main

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"strings"
)

//go:embed profiles/*.json
var profileFiles embed.FS

// Quantity is one number of a usage profile with its unit and where it comes
// from. The unit must be the one the field expects, so a number entered per
// day where the tool wants per month is caught, not silently projected.
type Quantity struct {
	Value  *float64 `json:"value"`
	Unit   string   `json:"unit"`
	Source string   `json:"source"`
	// Placeholder marks a number that stands in until it is measured; the
	// projection names every placeholder it used.
	Placeholder bool `json:"placeholder,omitempty"`
}

// V is the value (0 when unset; validate first).
func (q Quantity) V() float64 {
	if q.Value == nil {
		return 0
	}
	return *q.Value
}

// Profile is the usage of one stage in a month: the volumes the templates
// cannot know. Field docs with units are in tools/cost/profiles/README.md.
type Profile struct {
	Name        string `json:"name"`
	Description string `json:"description"`

	// GPU fleets
	JobsPerMonth            Quantity `json:"jobs_per_month"`
	GPUMinutesPerJob        Quantity `json:"gpu_minutes_per_job"`
	InstanceStartsPerMonth  Quantity `json:"instance_starts_per_month"`
	OverheadMinutesPerStart Quantity `json:"overhead_minutes_per_instance_start"`

	// Network: what goes through NAT, and what the S3 gateway endpoint carries
	WorkerAPIBytesPerJob          Quantity `json:"worker_api_bytes_per_job"`
	WorkerAPIBytesPerInstanceHour Quantity `json:"worker_api_bytes_per_instance_hour"`
	WorkerS3BytesPerJob           Quantity `json:"worker_s3_bytes_per_job"`
	ModelSyncBytesPerStart        Quantity `json:"model_sync_bytes_per_instance_start"`
	TaskStartsPerMonth            Quantity `json:"task_starts_per_month"`
	ImagePullBytesPerTaskStart    Quantity `json:"image_pull_bytes_per_task_start"`
	OtherNATGBPerMonth            Quantity `json:"other_nat_gb_per_month"`

	// CloudWatch Logs
	LogGBPerDay        Quantity `json:"log_gb_per_day"`
	VPCSentLogFraction Quantity `json:"vpc_sent_log_fraction"`

	// RDS storage growth
	RDSDataGB           Quantity `json:"rds_data_gb"`
	RDSGrowthGBPerMonth Quantity `json:"rds_growth_gb_per_month"`
	ProjectionMonths    Quantity `json:"projection_months"`

	// Media egress
	CloudFrontGBPerMonth       Quantity `json:"cloudfront_gb_per_month"`
	CloudFrontRequestsPerMonth Quantity `json:"cloudfront_requests_per_month"`
	S3InternetEgressGBPerMonth Quantity `json:"s3_internet_egress_gb_per_month"`

	// Path is where the profile was read from (not part of the file).
	Path string `json:"-"`
}

type profileField struct {
	name, unit string
	q          *Quantity
}

// fields lists every quantity with the unit it must carry.
func (p *Profile) fields() []profileField {
	return []profileField{
		{"jobs_per_month", "jobs/month", &p.JobsPerMonth},
		{"gpu_minutes_per_job", "minutes/job", &p.GPUMinutesPerJob},
		{"instance_starts_per_month", "starts/month", &p.InstanceStartsPerMonth},
		{"overhead_minutes_per_instance_start", "minutes/start", &p.OverheadMinutesPerStart},
		{"worker_api_bytes_per_job", "bytes/job", &p.WorkerAPIBytesPerJob},
		{"worker_api_bytes_per_instance_hour", "bytes/instance-hour", &p.WorkerAPIBytesPerInstanceHour},
		{"worker_s3_bytes_per_job", "bytes/job", &p.WorkerS3BytesPerJob},
		{"model_sync_bytes_per_instance_start", "bytes/start", &p.ModelSyncBytesPerStart},
		{"task_starts_per_month", "task starts/month", &p.TaskStartsPerMonth},
		{"image_pull_bytes_per_task_start", "bytes/task start", &p.ImagePullBytesPerTaskStart},
		{"other_nat_gb_per_month", "GB/month", &p.OtherNATGBPerMonth},
		{"log_gb_per_day", "GB/day", &p.LogGBPerDay},
		{"vpc_sent_log_fraction", "fraction of log_gb_per_day", &p.VPCSentLogFraction},
		{"rds_data_gb", "GB", &p.RDSDataGB},
		{"rds_growth_gb_per_month", "GB/month", &p.RDSGrowthGBPerMonth},
		{"projection_months", "months", &p.ProjectionMonths},
		{"cloudfront_gb_per_month", "GB/month", &p.CloudFrontGBPerMonth},
		{"cloudfront_requests_per_month", "requests/month", &p.CloudFrontRequestsPerMonth},
		{"s3_internet_egress_gb_per_month", "GB/month", &p.S3InternetEgressGBPerMonth},
	}
}

// Placeholders names the fields still standing in for a measurement.
func (p *Profile) Placeholders() []string {
	var out []string
	for _, f := range p.fields() {
		if f.q.Placeholder {
			out = append(out, f.name)
		}
	}
	return out
}

// validate reports every bad field at once, naming the field, the value and
// the fix.
func (p *Profile) validate() error {
	var errs []error
	if p.Name == "" {
		errs = append(errs, errors.New(`field name is empty: name the profile, e.g. "name": "production"`))
	}
	for _, f := range p.fields() {
		switch {
		case f.q.Value == nil:
			errs = append(errs, fmt.Errorf("field %s is missing: add {\"value\": ..., \"unit\": %q, \"source\": \"...\"}", f.name, f.unit))
		case math.IsNaN(*f.q.Value) || math.IsInf(*f.q.Value, 0) || *f.q.Value < 0:
			errs = append(errs, fmt.Errorf("field %s: value %v must be a number >= 0", f.name, *f.q.Value))
		case f.q.Unit != f.unit:
			errs = append(errs, fmt.Errorf("field %s: unit %q is not the expected %q: convert the value to %s and set the unit", f.name, f.q.Unit, f.unit, f.unit))
		case strings.TrimSpace(f.q.Source) == "":
			errs = append(errs, fmt.Errorf("field %s: source is empty: say where %v %s comes from (measurement, metric, estimate)", f.name, *f.q.Value, f.unit))
		}
	}
	if p.VPCSentLogFraction.Value != nil && p.VPCSentLogFraction.V() > 1 {
		errs = append(errs, fmt.Errorf("field vpc_sent_log_fraction: value %v must be between 0 and 1", p.VPCSentLogFraction.V()))
	}
	if p.ProjectionMonths.Value != nil && p.ProjectionMonths.V() < 1 {
		errs = append(errs, fmt.Errorf("field projection_months: value %v must be at least 1", p.ProjectionMonths.V()))
	}
	return errors.Join(errs...)
}

// profileAuto picks, for each stage, the embedded profile named after it.
const (
	profileAuto = "auto"
	profileNone = "none"
)

// LoadProfile reads a profile: a path to a JSON file (contains a / or ends
// in .json) or the name of an embedded profile (tools/cost/profiles/<name>.json).
func LoadProfile(ref string) (*Profile, error) {
	var raw []byte
	var err error
	path := ref
	if strings.Contains(ref, "/") || strings.HasSuffix(ref, ".json") {
		raw, err = os.ReadFile(ref)
	} else {
		path = "tools/cost/profiles/" + ref + ".json"
		raw, err = profileFiles.ReadFile("profiles/" + ref + ".json")
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("no usage profile %q: add %s or pass a file path", ref, path)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("read usage profile: %w", err)
	}
	var p Profile
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("usage profile %s: %w (fields are listed in tools/cost/profiles/README.md)", path, err)
	}
	if err := p.validate(); err != nil {
		return nil, fmt.Errorf("usage profile %s:\n%w", path, err)
	}
	p.Path = path
	return &p, nil
}

// hasEmbeddedProfile tells whether profiles/<name>.json is built in.
func hasEmbeddedProfile(name string) bool {
	_, err := fs.Stat(profileFiles, "profiles/"+name+".json")
	return err == nil
}
