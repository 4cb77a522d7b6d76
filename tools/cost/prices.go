package main

import (
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
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
	Fargate struct {
		ARM64        FargateRate `json:"arm64"`
		X86          FargateRate `json:"x86_64"`
		SpotFraction float64     `json:"spot_fraction_of_on_demand"`
	} `json:"fargate"`
	EC2 struct {
		InstanceHour map[string]float64 `json:"instance_hour"`
		SpotFraction float64            `json:"spot_fraction_of_on_demand"`
		SpotNote     string             `json:"spot_note"`
	} `json:"ec2"`
	EBSGP3GBMonth float64 `json:"ebs_gp3_gb_month"`
	RDS           struct {
		Engines        []string                `json:"engines"`
		InstanceHour   map[string]float64      `json:"instance_hour"`
		MultiAZFactor  float64                 `json:"multi_az_factor"`
		StorageGBMonth map[string]StorageRates `json:"storage_gb_month"`
		BackupGBMonth  float64                 `json:"backup_gb_month"`
	} `json:"rds"`
	ElastiCache struct {
		NodeHour map[string]float64 `json:"node_hour"`
	} `json:"elasticache"`
	CloudWatch struct {
		AlarmMetricMonth  float64 `json:"alarm_metric_month"`
		DashboardMonth    float64 `json:"dashboard_month"`
		LogsIngestedGB    float64 `json:"logs_ingested_gb"`
		LogsStoredGBMonth float64 `json:"logs_stored_gb_month"`
		CustomMetricMonth float64 `json:"custom_metric_month"`
	} `json:"cloudwatch"`
	SecretsManager struct {
		SecretMonth    float64 `json:"secret_month"`
		Per10kAPICalls float64 `json:"per_10k_api_calls"`
	} `json:"secrets_manager"`
	KMSKeyMonth       float64 `json:"kms_key_month"`
	S3StandardGBMonth float64 `json:"s3_standard_gb_month"`
	CloudFront        struct {
		PerGB            float64 `json:"per_gb"`
		Per10kHTTPSCalls float64 `json:"per_10k_https_requests"`
	} `json:"cloudfront"`
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
	return &p, nil
}

// Month turns an hourly price into a monthly one.
func (p *Prices) Month(hourly float64) float64 { return hourly * p.HoursPerMonth }
