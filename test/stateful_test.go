package test

import (
	"slices"
	"strings"
	"testing"
)

// statefulTypes hold data a deletion or replacement would lose. Snapshot is
// accepted where CloudFormation supports it (DeletionPolicy attribute,
// CloudFormation User Guide: "Snapshot [...] AWS::EC2::Volume,
// AWS::ElastiCache::CacheCluster, AWS::ElastiCache::ReplicationGroup,
// AWS::Neptune::DBCluster, AWS::RDS::DBCluster, AWS::RDS::DBInstance,
// AWS::Redshift::Cluster"); the production database is retained outright.
var statefulTypes = map[string][]string{
	"AWS::RDS::DBInstance":               {"Retain"},
	"AWS::RDS::DBCluster":                {"Retain"},
	"AWS::SecretsManager::Secret":        {"Retain"},
	"AWS::S3::Bucket":                    {"Retain"},
	"AWS::KMS::Key":                      {"Retain"},
	"AWS::ECR::Repository":               {"Retain"},
	"AWS::ElastiCache::ReplicationGroup": {"Retain", "Snapshot"},
	"AWS::EFS::FileSystem":               {"Retain"},
	"AWS::DynamoDB::Table":               {"Retain"},
}

// transientKeys are KMS keys that protect nothing at rest beyond the life of
// the resource they encrypt, by logical id prefix, with why.
var transientKeys = map[string]string{
	"AlertsKey":      "encrypts only the in-flight messages of the alerts topic, which is deleted with it",
	"ScaleToZeroKey": "encrypts only the in-flight messages of the scale-to-zero topic, which is deleted with it",
}

// TestProductionKeepsEveryStatefulResource walks every resource of every
// production stack, so a stateful resource added later cannot slip by with
// CloudFormation's default DeletionPolicy (Delete) or UpdateReplacePolicy
// (Delete: "the old resource is deleted when it is replaced").
func TestProductionKeepsEveryStatefulResource(t *testing.T) {
	b := stages["production"]
	seen := map[string]int{}
	for _, kind := range b.kinds() {
		for _, r := range b.templates[kind].Resources("") {
			allowed, stateful := statefulTypes[r.Type]
			if !stateful {
				continue
			}
			if why := transientKey(r); why != "" {
				continue
			}
			seen[r.Type]++
			for _, attr := range []string{"DeletionPolicy", "UpdateReplacePolicy"} {
				if got := str(r.Raw[attr]); !slices.Contains(allowed, got) {
					t.Errorf("production/%s %s %s: %s = %q, want one of %v", kind, r.Type, r.LogicalID, attr, got, allowed)
				}
			}
		}
	}
	// The walk must have found what the stage is known to hold.
	for typ, min := range map[string]int{"AWS::RDS::DBInstance": 1, "AWS::SecretsManager::Secret": 5, "AWS::S3::Bucket": 4,
		"AWS::KMS::Key": 1, "AWS::ECR::Repository": 2, "AWS::ElastiCache::ReplicationGroup": 1} {
		if seen[typ] < min {
			t.Errorf("production: found %d %s, expected at least %d", seen[typ], typ, min)
		}
	}
}

func transientKey(r Resource) string {
	if r.Type != "AWS::KMS::Key" {
		return ""
	}
	for prefix, why := range transientKeys {
		if strings.HasPrefix(r.LogicalID, prefix) {
			return why
		}
	}
	return ""
}

// TestDatabaseMasterPasswordBelongsToRds: RDS manages and rotates the master
// password (ManageMasterUserPassword), so no CloudFormation-owned master
// secret can be deleted while the retained database still needs it, and
// DB-init reads the secret RDS created (AWS::RDS::DBInstance return value
// MasterUserSecret.SecretArn).
func TestDatabaseMasterPasswordBelongsToRds(t *testing.T) {
	for _, name := range []string{"staging", "production"} {
		data := stages[name].templates["data"]
		db := data.One(t, "AWS::RDS::DBInstance")
		if db.Props["ManageMasterUserPassword"] != true || db.Props["MasterUserPassword"] != nil {
			t.Errorf("%s: ManageMasterUserPassword = %v, MasterUserPassword = %v; want RDS-managed", name, db.Props["ManageMasterUserPassword"], db.Props["MasterUserPassword"])
		}
		arn := str(data.One(t, "Custom::DbInit").Props["MasterSecretArn"])
		if want := `{"Fn::GetAtt":["` + db.LogicalID + `","MasterUserSecret.SecretArn"]}`; arn != want {
			t.Errorf("%s: DB-init reads master secret %s, want %s", name, arn, want)
		}
	}
}

// TestDatabaseEngineVersionDoesNotDrift: with a pinned minor (10.11.15) and
// AutoMinorVersionUpgrade on, RDS moves the instance to a newer minor while
// the template keeps the old one; the next update that touches the instance
// then asks for a downgrade, which RDS refuses ("Cannot upgrade mariadb from
// 10.11.x to 10.11.y"). cfn-lint 1.51 rejects a major-only 10.11 (E3691), so
// the engine is pinned to a minor and moves forward through config only.
func TestDatabaseEngineVersionDoesNotDrift(t *testing.T) {
	for _, b := range all() {
		db := b.templates["data"].One(t, "AWS::RDS::DBInstance")
		version := str(db.Props["EngineVersion"])
		if strings.Count(version, ".") >= 2 && db.Props["AutoMinorVersionUpgrade"] != false {
			t.Errorf("%s: EngineVersion %s is a pinned minor but AutoMinorVersionUpgrade = %v", b.label, version, db.Props["AutoMinorVersionUpgrade"])
		}
	}
}
