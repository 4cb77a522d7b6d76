package test

import (
	"slices"
	"testing"

	"github.com/bp/infra/config"
	"github.com/bp/infra/stacks/base"
)

// wantRetention is a log group's configured retention: the stage's, or the
// VPC flow logs' own (kept longer in production).
func wantRetention(b *built, g Resource) float64 {
	if str(g.Props["LogGroupName"]) == b.stage.Names.LogGroup("vpc-flow-logs") {
		return float64(b.stage.Cfg.Network.FlowLogRetentionDays)
	}
	return float64(b.stage.Cfg.LogRetentionDays)
}

// TestLogRetentionEverywhere: every log group of every stack has the stage's
// retention (the flow logs theirs), and every Lambda function (ours and CDK's custom-resource
// providers) logs to such a group instead of an implicit, never-expiring one.
func TestLogRetentionEverywhere(t *testing.T) {
	for _, b := range all() {
		groups, functions := 0, 0
		for _, kind := range b.kinds() {
			for _, g := range b.templates[kind].Resources("AWS::Logs::LogGroup") {
				groups++
				if days := wantRetention(b, g); num(g.Props["RetentionInDays"]) != days {
					t.Errorf("%s/%s: log group %s (%s) RetentionInDays = %v, want %v", b.label, kind, g.LogicalID, str(g.Props["LogGroupName"]), g.Props["RetentionInDays"], days)
				}
			}
			for _, fn := range b.templates[kind].Resources("AWS::Lambda::Function") {
				functions++
				if get(fn.Props, "LoggingConfig.LogGroup") == nil {
					t.Errorf("%s/%s: Lambda %s has no LoggingConfig.LogGroup (it would create a log group without retention)", b.label, kind, fn.LogicalID)
				}
			}
		}
		if groups == 0 || functions == 0 {
			t.Errorf("%s: found %d log groups and %d functions; the walk is broken", b.label, groups, functions)
		}
	}
}

// cloudWatchRetentionDays are the retentions CloudWatch Logs accepts:
// "Possible values are: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400,
// 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, and 3653." (CloudWatch Logs
// API Reference, PutRetentionPolicy, retentionInDays).
var cloudWatchRetentionDays = []int{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}

// TestRetentionCoversEveryAcceptedValue: every retention config accepts is one
// CloudWatch Logs accepts and maps to a CDK value (base.Retention panics on
// one it lacks, at synthesis).
func TestRetentionCoversEveryAcceptedValue(t *testing.T) {
	for _, days := range config.LogRetentionDays() { // the list config.Validate accepts from
		if !slices.Contains(cloudWatchRetentionDays, days) {
			t.Errorf("config accepts a retention of %d days, which CloudWatch Logs refuses", days)
		}
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Errorf("config accepts a retention of %d days, which has no CDK value: %v", days, r)
				}
			}()
			_ = base.Retention(days)
		}()
	}
}
