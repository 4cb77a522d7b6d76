package config

import (
	"encoding/json"
	"strings"
	"testing"
)

// exampleContext mirrors cdk.json's shipped example values.
func exampleContext() map[string]any {
	stage := func(account, domain, certID, email string) map[string]any {
		return map[string]any{
			"account":        account,
			"owner":          "platform",
			"domainName":     domain,
			"certificateArn": "arn:aws:acm:us-east-1:" + account + ":certificate/00000000-0000-4000-8000-00000000000" + certID,
			"alertEmail":     email,
		}
	}
	return map[string]any{
		"stages": map[string]any{
			"staging": stage("111111111111", "staging.example.com", "1", "ops-staging@example.com"),
			"production": func() map[string]any {
				s := stage("222222222222", "app.example.com", "2", "ops@example.com")
				s["media"] = map[string]any{"cdnDomainName": "media.example.com",
					"cdnCertificateArn": "arn:aws:acm:us-east-1:222222222222:certificate/00000000-0000-4000-8000-000000000003"}
				return s
			}(),
		},
		"@aws-cdk/core:stackRelativeExports": true,
		"aws:cdk:enable-path-metadata":       true,
	}
}

func with(ctx map[string]any, kv ...any) map[string]any {
	for i := 0; i < len(kv); i += 2 {
		ctx[kv[i].(string)] = kv[i+1]
	}
	return ctx
}

func stageSettings(ctx map[string]any, stage string) map[string]any {
	return ctx["stages"].(map[string]any)[stage].(map[string]any)
}

func TestLoadAllStagesWithoutSelection(t *testing.T) {
	stages, err := Load(exampleContext())
	if err != nil {
		t.Fatal(err)
	}
	if len(stages) != 2 || stages[0].Stage != "staging" || stages[1].Stage != "production" {
		t.Fatalf("want staging and production, got %+v", stages)
	}
}

// TestBlocker1_EachStageGetsItsOwnPreset: production must not inherit staging
// settings (the old app built production from the staging config).
func TestBlocker1_EachStageGetsItsOwnPreset(t *testing.T) {
	stages, err := Load(exampleContext())
	if err != nil {
		t.Fatal(err)
	}
	staging, production := stages[0], stages[1]
	checks := []struct {
		name      string
		got, want any
	}{
		{"staging NAT count", staging.Network.NatCount, 1},
		{"production NAT count", production.Network.NatCount, 2},
		{"staging Multi-AZ", staging.Database.MultiAz, false},
		{"production Multi-AZ", production.Database.MultiAz, true},
		{"staging RDS class", staging.Database.InstanceClass, "db.t4g.small"},
		{"production RDS class", production.Database.InstanceClass, "db.t4g.medium"},
		{"staging cache node", staging.Cache.NodeType, "cache.t4g.micro"},
		{"production cache node", production.Cache.NodeType, "cache.t4g.small"},
		{"staging backend cpu", staging.Backend.Cpu, 512},
		{"production backend memory", production.Backend.MemoryMiB, 2048},
		{"staging frontend memory", staging.Frontend.MemoryMiB, 512},
		{"production frontend cpu", production.Frontend.Cpu, 512},
		{"staging retention", staging.LogRetentionDays, 7},
		{"production retention", production.LogRetentionDays, 30},
		{"staging removal", staging.Database.RemovalPolicy, "snapshot"},
		{"production removal", production.Database.RemovalPolicy, "retain"},
		{"production deletion protection", production.Database.DeletionProtection, true},
		{"staging domain", staging.DomainName, "staging.example.com"},
		{"production domain", production.DomainName, "app.example.com"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestSelectedStageOnlyAndFlatOverrides(t *testing.T) {
	ctx := with(exampleContext(), "stage", "production", "imageTag", "abc1234", "database.allocatedStorageGb", "40", "backend.minCount", "3", "backend.maxCount", "4",
		"availabilityZones", "us-east-1a,us-east-1b,us-east-1c", "network.interfaceEndpoints", "logs,ecr.dkr")
	stages, err := Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(stages) != 1 || stages[0].Stage != "production" {
		t.Fatalf("want only production, got %d stages", len(stages))
	}
	s := stages[0]
	if s.ImageTag != "abc1234" || s.Database.AllocatedStorageGb != 40 || s.Backend.MinCount != 3 || len(s.AvailabilityZones) != 3 || strings.Join(s.Network.InterfaceEndpoints, ",") != "logs,ecr.dkr" {
		t.Fatalf("flat overrides not applied: %+v", s)
	}
}

func TestFleetEntriesStartFromFleetDefaults(t *testing.T) {
	ctx := exampleContext()
	stageSettings(ctx, "staging")["fleets"] = []any{
		map[string]any{"slug": "gpu-video", "instanceTypes": []any{"g6.xlarge"}, "maxSize": 3},
	}
	stages, err := Load(with(ctx, "stage", "staging"))
	if err != nil {
		t.Fatal(err)
	}
	f := stages[0].Fleets[0]
	if f.Slug != "gpu-video" || f.WarmupSeconds != 300 || f.BacklogPerInstanceTarget != 2 || f.ScaleToZeroMinutes != 15 || f.RootVolumeGb != 100 {
		t.Fatalf("fleet defaults not applied: %+v", f)
	}
	if f.AmiParameter != "/bp/ami/fleets/staging/gpu-video" {
		t.Fatalf("AMI parameter = %q", f.AmiParameter)
	}
}

func TestLoadErrors(t *testing.T) {
	cases := []struct {
		name  string
		ctx   func() map[string]any
		wants []string // every fragment must appear in the joined error
	}{
		{"unknown stage lists known ones", func() map[string]any { return with(exampleContext(), "stage", "prod") },
			[]string{`"prod"`, "staging, production"}},
		{"production without certificate names the key", func() map[string]any {
			ctx := with(exampleContext(), "stage", "production")
			delete(stageSettings(ctx, "production"), "certificateArn")
			return ctx
		}, []string{`stage "production": certificateArn`, "arn:aws:acm:us-east-1:222222222222:certificate/<id>"}},
		{"production without email and domain", func() map[string]any {
			ctx := exampleContext()
			delete(stageSettings(ctx, "production"), "alertEmail")
			delete(stageSettings(ctx, "production"), "domainName")
			return ctx
		}, []string{"alertEmail", "domainName"}},
		{"unknown key rejected with known keys", func() map[string]any {
			ctx := exampleContext()
			stageSettings(ctx, "staging")["databse"] = map[string]any{}
			return ctx
		}, []string{`"stages.staging.databse"`, "not a setting", "database"}},
		{"unknown nested key", func() map[string]any {
			return with(exampleContext(), "stage", "staging", "database.multiAZ", "true")
		}, []string{`"database.multiAZ"`, "multiAz"}},
		{"flat key without stage", func() map[string]any { return with(exampleContext(), "imageTag", "abc1234") },
			[]string{`"imageTag"`, "-c stage="}},
		{"unknown stage under stages", func() map[string]any {
			ctx := exampleContext()
			ctx["stages"].(map[string]any)["qa"] = map[string]any{}
			return ctx
		}, []string{`"stages.qa"`, "staging, production"}},
		{"wrong types", func() map[string]any {
			return with(exampleContext(), "stage", "staging", "database.allocatedStorageGb", "lots", "database.multiAz", "maybe")
		}, []string{"allocatedStorageGb", "whole number", "multiAz", "true or false"}},
		{"certificate in another region and account", func() map[string]any {
			return with(exampleContext(), "stage", "staging", "certificateArn", "arn:aws:acm:eu-west-1:222222222222:certificate/00000000-0000-4000-8000-000000000001")
		}, []string{"certificateArn", "region us-east-1 and account 111111111111"}},
		{"HTTP only is explicit", func() map[string]any {
			return with(exampleContext(), "stage", "staging", "certificateArn", "")
		}, []string{"certificateArn", "allowHttpOnly=true"}},
		{"HTTP only never in production", func() map[string]any {
			return with(exampleContext(), "stage", "production", "certificateArn", "", "allowHttpOnly", "true")
		}, []string{"allowHttpOnly", "production must serve HTTPS"}},
		{"bad email", func() map[string]any {
			return with(exampleContext(), "stage", "staging", "alertEmail", "ops at example")
		},
			[]string{"alertEmail", "not a plain email"}},
		{"subnets must fit", func() map[string]any {
			return with(exampleContext(), "stage", "staging", "network.vpcCidr", "10.0.0.0/21")
		}, []string{"network.vpcCidr", "need"}},
		{"subnet mask range", func() map[string]any {
			return with(exampleContext(), "stage", "staging", "network.privateSubnetMask", "30")
		}, []string{"network.privateSubnetMask", "at most /28"}},
		{"bad cidr", func() map[string]any {
			return with(exampleContext(), "stage", "staging", "network.vpcCidr", "10.0.0.1/16")
		},
			[]string{"network.vpcCidr", "not an IPv4 network CIDR"}},
		{"NAT instance never in production", func() map[string]any {
			return with(exampleContext(), "stage", "production", "network.natKind", "instance")
		}, []string{"network.natKind", "non-production"}},
		{"NAT count within zones", func() map[string]any { return with(exampleContext(), "stage", "staging", "network.natCount", "3") },
			[]string{"network.natCount"}},
		{"fleet slugs unique and DNS-safe, types non-empty", func() map[string]any {
			ctx := with(exampleContext(), "stage", "staging")
			stageSettings(ctx, "staging")["fleets"] = []any{
				map[string]any{"slug": "GPU_1", "instanceTypes": []any{}},
				map[string]any{"slug": "gpu-a", "instanceTypes": []any{"g5.xlarge"}},
				map[string]any{"slug": "gpu-a", "instanceTypes": []any{"g5.xlarge"}},
			}
			return ctx
		}, []string{"fleets[0].slug", "DNS-safe", "fleets[0].instanceTypes", "fleets[2].slug", "two fleets"}},
		{"numbers in range", func() map[string]any {
			return with(exampleContext(), "stage", "staging", "database.maxAllocatedStorageGb", "10", "backend.cpu", "300", "logRetentionDays", "8")
		}, []string{"maxAllocatedStorageGb", "backend.cpu", "logRetentionDays"}},
		{"production keeps its data", func() map[string]any {
			return with(exampleContext(), "stage", "production", "database.removalPolicy", "snapshot", "database.deletionProtection", "false")
		}, []string{"database.removalPolicy", "database.deletionProtection"}},
		{"missing account", func() map[string]any {
			ctx := with(exampleContext(), "stage", "staging")
			delete(stageSettings(ctx, "staging"), "account")
			return ctx
		}, []string{"account", "12-digit"}},
		{"production keeps its audit trail and media versions", func() map[string]any {
			return with(exampleContext(), "stage", "production", "network.flowLogRetentionDays", "30", "media.versioned", "false")
		}, []string{"network.flowLogRetentionDays", "at least 90 days", "media.versioned", "set media.versioned=true"}},
		{"nightly scale to zero not in production", func() map[string]any {
			return with(exampleContext(), "stage", "production", "fleetSchedule.nightlyScaleToZero", "true")
		}, []string{"fleetSchedule.nightlyScaleToZero"}},
		{"image tag is a sha", func() map[string]any { return with(exampleContext(), "stage", "staging", "imageTag", "latest") },
			[]string{"imageTag", "git sha"}},
		{"production media needs TLS 1.2, so a custom domain", func() map[string]any {
			ctx := with(exampleContext(), "stage", "production")
			delete(stageSettings(ctx, "production"), "media")
			return ctx
		}, []string{`stage "production": media.cdnDomainName`, "TLS 1.2"}},
		{"stuck-fleet window fits a CloudWatch alarm", func() map[string]any {
			ctx := with(exampleContext(), "stage", "staging")
			stageSettings(ctx, "staging")["fleets"] = []any{map[string]any{"slug": "gpu-a", "scaleToZeroMinutes": 1440, "protectedIdleLimitMinutes": 1440}}
			return ctx
		}, []string{"fleets[0].scaleToZeroMinutes", "at most 1440"}},
		{"custom media domain needs its certificate", func() map[string]any {
			return with(exampleContext(), "stage", "staging", "media.cdnDomainName", "media.example.com")
		}, []string{"media.cdnDomainName"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Load(c.ctx())
			if err == nil {
				t.Fatal("want an error")
			}
			for _, w := range c.wants {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not mention %q:\n%v", w, err)
				}
			}
		})
	}
}

// TestAllProblemsReportedAtOnce: several bad keys give one error naming each.
func TestAllProblemsReportedAtOnce(t *testing.T) {
	ctx := with(exampleContext(), "stage", "staging", "alertEmail", "nope", "network.natCount", "9", "imageTag", "x")
	_, err := Load(ctx)
	if err == nil {
		t.Fatal("want an error")
	}
	for _, key := range []string{"alertEmail", "network.natCount", "imageTag"} {
		if !strings.Contains(err.Error(), key) {
			t.Errorf("missing %s in:\n%v", key, err)
		}
	}
}

func TestPresetsAreValidOnceSiteValuesAreSet(t *testing.T) {
	for _, name := range StageNames() {
		s, ok := Preset(name)
		if !ok {
			t.Fatal(name)
		}
		s.Account, s.Owner, s.DomainName, s.AlertEmail = "111111111111", "platform", "app.example.com", "ops@example.com"
		s.CertificateArn = "arn:aws:acm:us-east-1:111111111111:certificate/00000000-0000-4000-8000-000000000001"
		s.Media.CdnDomainName, s.Media.CdnCertificateArn = "media.example.com", "arn:aws:acm:us-east-1:111111111111:certificate/00000000-0000-4000-8000-000000000003"
		derive(&s)
		if err := Validate(s); err != nil {
			t.Errorf("preset %s: %v", name, err)
		}
	}
}

// FuzzLoad: the context decoder never panics, whatever JSON cdk.json or -c holds.
func FuzzLoad(f *testing.F) {
	seed, _ := json.Marshal(exampleContext())
	f.Add(seed)
	f.Add([]byte(`{"stage":"staging","database.allocatedStorageGb":"1e99","fleets":"x"}`))
	f.Add([]byte(`{"stages":{"staging":{"fleets":[{"slug":1},null,[]],"network":[]}}}`))
	f.Add([]byte(`{"stage":"production","a.b.c":{"d":null},"availabilityZones":[1,2]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var ctx map[string]any
		if err := json.Unmarshal(data, &ctx); err != nil {
			return
		}
		_, _ = Load(ctx)
	})
}

// TestEveryAlarmThresholdMustBePositive: each whole-number threshold is
// checked, including any added to Alarms later.
func TestEveryAlarmThresholdMustBePositive(t *testing.T) {
	ctx := with(exampleContext(), "stage", "staging", "alarms.natGbPerHour", "0", "alarms.cacheEvictions", "0", "alarms.rdsConnections", "-1")
	_, err := Load(ctx)
	if err == nil {
		t.Fatal("want an error")
	}
	for _, key := range []string{"alarms.natGbPerHour", "alarms.cacheEvictions", "alarms.rdsConnections"} {
		if !strings.Contains(err.Error(), key+` = "`) {
			t.Errorf("no problem reported for %s:\n%v", key, err)
		}
	}
}

// TestProductionRefusesASharedAccount: one account for two stages makes the
// staging deploy role a production role. Production refuses unless told to
// accept it, also when only production is synthesized; the other stage
// sharing an account gets a warning.
func TestProductionRefusesASharedAccount(t *testing.T) {
	shared := exampleContext()
	prod := shared["stages"].(map[string]any)["production"].(map[string]any)
	prod["account"] = "111111111111"
	prod["certificateArn"] = "arn:aws:acm:us-east-1:111111111111:certificate/00000000-0000-4000-8000-000000000002"
	prod["media"].(map[string]any)["cdnCertificateArn"] = "arn:aws:acm:us-east-1:111111111111:certificate/00000000-0000-4000-8000-000000000003"
	onlyProduction := map[string]any{"stage": "production"}
	for k, v := range shared {
		onlyProduction[k] = v
	}
	for _, ctx := range []map[string]any{shared, onlyProduction} {
		_, err := Load(ctx)
		if err == nil || !strings.Contains(err.Error(), `stage production: account "111111111111" is also the account of stage staging`) ||
			!strings.Contains(err.Error(), "allowSharedAccount=true") {
			t.Errorf("shared account not refused with its fix: %v", err)
		}
	}
	prod["allowSharedAccount"] = true
	if _, err := Load(shared); err != nil {
		t.Fatalf("allowSharedAccount=true still refused: %v", err)
	}
	warnings := Warnings(shared)
	if len(warnings) != 2 || !strings.Contains(warnings[0], "shares account 111111111111") {
		t.Errorf("warnings = %v, want one per stage of the shared account", warnings)
	}
	if w := Warnings(exampleContext()); len(w) != 0 {
		t.Errorf("separate accounts warned: %v", w)
	}
}
