package test

import (
	"math"
	"strings"
	"testing"
)

// alarmsNamed returns the stage's alarms whose name starts with prefix.
func alarmsNamed(b *built, prefix string) []Resource {
	var out []Resource
	for _, kind := range []string{"network", "observability"} {
		for _, a := range b.templates[kind].Resources("AWS::CloudWatch::Alarm") {
			if strings.HasPrefix(str(a.Props["AlarmName"]), b.stage.Names.Alarm(prefix)) {
				out = append(out, a)
			}
		}
	}
	return out
}

func closeTo(a, b float64) bool { return math.Abs(a-b) < 1e-6*math.Max(1, math.Abs(b)) }

// alarmThresholdChecks proves that per-stage cost thresholds reach the alarms.
func alarmThresholdChecks() map[string]stageCheck {
	return map[string]stageCheck{
		"alarms.natGbPerHour": func(t *testing.T, b *built) {
			nat := alarmsNamed(b, "nat-1-bytes")
			if len(nat) != 1 || !closeTo(num(nat[0].Props["Threshold"]), float64(b.stage.Cfg.Alarms.NatGbPerHour)*gib) {
				t.Errorf("%s: NAT bytes alarm %v does not use natGbPerHour=%d", b.label, nat, b.stage.Cfg.Alarms.NatGbPerHour)
			}
		},
		"alarms.logsGbPerDay": func(t *testing.T, b *built) {
			chunks := alarmsNamed(b, "logs-incoming")
			total := 0.0
			for _, a := range chunks {
				total += num(a.Props["Threshold"])
			}
			if len(chunks) == 0 || !closeTo(total*24, float64(b.stage.Cfg.Alarms.LogsGbPerDay)*gib) {
				t.Errorf("%s: log ingestion alarms sum to %.0f bytes/h, want logsGbPerDay=%d", b.label, total, b.stage.Cfg.Alarms.LogsGbPerDay)
			}
		},
		"alarms.cloudFrontGbPerDay": func(t *testing.T, b *built) {
			cdn := alarmsNamed(b, "cdn-bytes")
			if len(cdn) != 1 || !closeTo(num(cdn[0].Props["Threshold"])*24, float64(b.stage.Cfg.Alarms.CloudFrontGbPerDay)*gib) {
				t.Errorf("%s: CloudFront bytes alarm %v does not use cloudFrontGbPerDay=%d", b.label, cdn, b.stage.Cfg.Alarms.CloudFrontGbPerDay)
			}
		},
	}
}
