package test

import (
	"testing"
)

// TestProductionMediaCanBeRecovered: the production media bucket keeps the
// versions a delete or overwrite leaves, and expires them after the
// configured days (S3 lifecycle NoncurrentVersionExpiration), so recovery has
// a bounded cost.
func TestProductionMediaCanBeRecovered(t *testing.T) {
	for _, b := range all() {
		m := b.stage.Cfg.Media
		media := first(b.templates["data"].Where("AWS::S3::Bucket", "BucketName", b.stage.Names.Bucket("media", b.stage.Cfg.Account)))
		versioned := get(media.Props, "VersioningConfiguration.Status") == "Enabled"
		if b.stage.Cfg.IsProduction() && !versioned {
			t.Errorf("%s: production media bucket is not versioned", b.label)
		}
		if !versioned {
			continue
		}
		found := false
		for _, r := range anyList(get(media.Props, "LifecycleConfiguration.Rules")) {
			if num(get(r, "NoncurrentVersionExpiration.NoncurrentDays")) == float64(m.NoncurrentVersionDays) && get(r, "Status") == "Enabled" {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: noncurrent media versions never expire: %s", b.label, str(get(media.Props, "LifecycleConfiguration.Rules")))
		}
	}
}

// TestDatabaseAuditLogReachesCloudWatch: the MariaDB audit plugin (RDS option
// MARIADB_AUDIT_PLUGIN, events CONNECT, QUERY_DDL, QUERY_DCL) is on, and RDS
// exports its "audit" log (EnableCloudwatchLogsExports) to
// /aws/rds/instance/<id>/audit, which exists first with the stage's retention.
func TestDatabaseAuditLogReachesCloudWatch(t *testing.T) {
	for _, b := range all() {
		data := b.templates["data"]
		db := data.One(t, "AWS::RDS::DBInstance")
		og := data.One(t, "AWS::RDS::OptionGroup")
		if !refTo(db.Props["OptionGroupName"], og.LogicalID) {
			t.Errorf("%s: the instance does not use the audit option group", b.label)
		}
		opt := anyList(og.Props["OptionConfigurations"])
		if len(opt) != 1 || get(opt[0], "OptionName") != "MARIADB_AUDIT_PLUGIN" ||
			!equalJSON(get(opt[0], "OptionSettings"), []any{map[string]any{"Name": "SERVER_AUDIT_EVENTS", "Value": "CONNECT,QUERY_DDL,QUERY_DCL"}}) {
			t.Errorf("%s: option group %s", b.label, str(opt))
		}
		if !containsStr(listOfStrings(db.Props["EnableCloudwatchLogsExports"]), "audit") {
			t.Errorf("%s: audit log not exported: %v", b.label, db.Props["EnableCloudwatchLogsExports"])
		}
		group := data.Where("AWS::Logs::LogGroup", "LogGroupName", "/aws/rds/instance/"+b.stage.Names.Resource("db")+"/audit")
		if len(group) != 1 || num(group[0].Props["RetentionInDays"]) != float64(b.stage.Cfg.LogRetentionDays) {
			t.Errorf("%s: audit log group missing or without the stage's retention", b.label)
		}
	}
}

func containsStr(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
