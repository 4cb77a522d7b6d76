package main

import (
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"slices"
)

//go:embed prices/*.json
var priceFiles embed.FS

// Prices is one region's price file. Missing map entries mean "unpriced":
// the report says so instead of counting them as free.
type Prices struct {
	Region        string  `json:"region"`
	Currency      string  `json:"currency"`
	Source        string  `json:"source"`
	AsOf          string  `json:"as_of"`
	HoursPerMonth float64 `json:"hours_per_month"`
	PublicIPv4    float64 `json:"public_ipv4_hour"`
	NATGateway    struct {
		Hour  float64 `json:"hour"`
		PerGB float64 `json:"per_gb"`
	} `json:"nat_gateway"`
	ALB struct {
		Hour    float64 `json:"hour"`
		LCUHour float64 `json:"lcu_hour"`
	} `json:"application_load_balancer"`
	InterfaceEndpoint struct {
		AZHour float64 `json:"az_hour"`
		PerGB  float64 `json:"per_gb"`
	} `json:"interface_vpc_endpoint"`
	DataTransfer struct {
		Sourced
		InternetOutGB float64 `json:"internet_out_gb"`
		// Billed on both sides: a GB crossing costs twice this.
		CrossAZGBEachWay    float64 `json:"cross_az_gb_each_direction"`
		PublicIPv4GBEachWay float64 `json:"regional_public_ipv4_gb_each_direction"`
	} `json:"data_transfer"`
	Fargate struct {
		ARM64        FargateRate `json:"arm64"`
		X86          FargateRate `json:"x86_64"`
		SpotFraction float64     `json:"spot_fraction_of_on_demand"`
	} `json:"fargate"`
	EC2 struct {
		Sourced
		InstanceHour map[string]float64 `json:"instance_hour"`
		SpotFraction float64            `json:"spot_fraction_of_on_demand"`
		SpotNote     string             `json:"spot_note"`
	} `json:"ec2"`
	EBS struct {
		Sourced
		GP3 float64 `json:"gp3"`
		GP2 float64 `json:"gp2"`
	} `json:"ebs_gb_month"`
	RDS struct {
		Engines                 []string                `json:"engines"`
		InstanceHour            map[string]float64      `json:"instance_hour"`
		MultiAZFactor           float64                 `json:"multi_az_factor"`
		StorageGBMonth          map[string]StorageRates `json:"storage_gb_month"`
		BackupGBMonth           float64                 `json:"backup_gb_month"`
		PerformanceInsightsFree float64                 `json:"performance_insights_free_days"`
	} `json:"rds"`
	ElastiCache struct {
		Sourced
		// DefaultEngine is CloudFormation's default Engine of a replication group.
		DefaultEngine string `json:"default_engine"`
		// NodeHour is by engine, then node type.
		NodeHour      map[string]map[string]float64 `json:"node_hour"`
		BackupGBMonth float64                       `json:"backup_gb_month"`
	} `json:"elasticache"`
	WAF struct {
		Sourced
		WebACLMonth            float64  `json:"web_acl_month"`
		RuleMonth              float64  `json:"rule_month"`
		PerMillionRequests     float64  `json:"per_million_requests"`
		NoFeeManagedRuleGroups []string `json:"no_fee_managed_rule_groups"`
		SubscriptionNote       string   `json:"subscription_note"`
	} `json:"waf"`
	CloudWatch struct {
		AlarmMetricMonth        float64 `json:"alarm_metric_month"`
		HighResAlarmMetricMonth float64 `json:"high_resolution_alarm_metric_month"`
		AnomalyDetectionMetrics float64 `json:"anomaly_detection_metrics_per_alarm"`
		CompositeAlarmMonth     float64 `json:"composite_alarm_month"`
		DashboardMonth          float64 `json:"dashboard_month"`
		LogsIngestedGB          float64 `json:"logs_ingested_gb"`
		LogsStoredGBMonth       float64 `json:"logs_stored_gb_month"`
		CustomMetricMonth       float64 `json:"custom_metric_month"`
	} `json:"cloudwatch"`
	SecretsManager struct {
		SecretMonth    float64 `json:"secret_month"`
		Per10kAPICalls float64 `json:"per_10k_api_calls"`
	} `json:"secrets_manager"`
	KMSKeyMonth       float64 `json:"kms_key_month"`
	KMSPer10kRequests float64 `json:"kms_per_10k_requests"`
	Lambda            struct {
		Sourced
		PerMillionRequests float64 `json:"per_million_requests"`
		ARM64GBSecond      float64 `json:"arm64_gb_second"`
		X86GBSecond        float64 `json:"x86_64_gb_second"`
	} `json:"lambda"`
	ECRStorageGBMonth      float64 `json:"ecr_storage_gb_month"`
	SNSPerMillionPublishes float64 `json:"sns_per_million_publishes"`
	SSMAdvancedParamMonth  float64 `json:"ssm_advanced_parameter_month"`
	Budgets                struct {
		Sourced
		BudgetDay           float64 `json:"budget_day"`
		FreePerPayerAccount float64 `json:"free_per_payer_account"`
	} `json:"budgets"`
	S3StandardGBMonth float64 `json:"s3_standard_gb_month"`
	CloudFront        struct {
		// PricedClass is the price class whose edges all bill PerGB (North
		// America and Europe); wider classes also serve from dearer regions.
		PricedClass         string  `json:"price_class_priced"`
		PerGB               float64 `json:"per_gb"`
		Per10kHTTPSCalls    float64 `json:"per_10k_https_requests"`
		FunctionsPerMillion float64 `json:"functions_per_million"`
	} `json:"cloudfront"`
}

// Sourced is the source and date a price section was taken from.
type Sourced struct {
	Source string `json:"source"`
	AsOf   string `json:"as_of"`
}

// FargateRate is the on-demand Fargate price of one CPU architecture.
type FargateRate struct {
	VCPUHour float64 `json:"vcpu_hour"`
	GBHour   float64 `json:"gb_hour"`
}

// StorageRates are per GB-month for single-AZ and Multi-AZ storage.
type StorageRates struct {
	SingleAZ float64 `json:"single_az"`
	MultiAZ  float64 `json:"multi_az"`
}

// LoadPrices reads a price file: path if set, else the embedded file of region.
func LoadPrices(region, path string) (*Prices, error) {
	var raw []byte
	var err error
	if path != "" {
		raw, err = os.ReadFile(path)
	} else {
		raw, err = priceFiles.ReadFile("prices/" + region + ".json")
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("no embedded price file for region %q: add tools/cost/prices/%s.json", region, region)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("read price file: %w", err)
	}
	var p Prices
	if err := json.Unmarshal(raw, &p); err != nil {
		return nil, fmt.Errorf("parse price file: %w", err)
	}
	if p.HoursPerMonth <= 0 || p.Source == "" || p.AsOf == "" {
		return nil, fmt.Errorf("price file for %q lacks hours_per_month, source or as_of", region)
	}
	sections := map[string]Sourced{
		"data_transfer": p.DataTransfer.Sourced, "ec2": p.EC2.Sourced, "ebs_gb_month": p.EBS.Sourced,
		"elasticache": p.ElastiCache.Sourced, "waf": p.WAF.Sourced, "lambda": p.Lambda.Sourced, "budgets": p.Budgets.Sourced,
	}
	for _, name := range slices.Sorted(maps.Keys(sections)) {
		if s := sections[name]; s.Source == "" || s.AsOf == "" {
			return nil, fmt.Errorf("price file for %q: section %s lacks source or as_of: add where its prices come from and when they were read", region, name)
		}
	}
	return &p, nil
}

// Month turns an hourly price into a monthly one.
func (p *Prices) Month(hourly float64) float64 { return hourly * p.HoursPerMonth }

// Day turns a monthly price into a daily one (730 h / 24 = 30.42 days).
func (p *Prices) Day(monthly float64) float64 { return monthly / p.HoursPerMonth * 24 }

// DaysPerMonth is the month of the price file in days.
func (p *Prices) DaysPerMonth() float64 { return p.HoursPerMonth / 24 }
