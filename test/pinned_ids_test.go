package test

// pinnedIDs are the logical ids of the Data stack's stateful resources, sorted.
// Changing one makes CloudFormation replace the resource and lose its data:
// edit only with a migration plan. (The master password is RDS-managed: its
// secret belongs to the instance and is not in the template.)
var pinnedIDs = map[string][]string{
	"AWS::RDS::DBInstance":               {"DatabaseB269D8BB"},
	"AWS::S3::Bucket":                    {"AccessLogsBucket83982689", "ComfyLogsBucket4D605A1A", "MediaBucketBCBB02BA", "ModelsBucketA3610ED4"},
	"AWS::ECR::Repository":               {"BackendRepository9B711290", "FrontendRepository7D714FA2"},
	"AWS::ElastiCache::ReplicationGroup": {"Cache"},
	"AWS::KMS::Key":                      {"DatabaseKey7576F140"},
	"AWS::SecretsManager::Secret": {"AppKeySecret0BDD766B", "AssetOpsSecret26DBEB07", "CacheAuthSecretD6B196B8", "DbAppSecretBE2ADA00",
		"FleetSecret09141AA3"},
}
