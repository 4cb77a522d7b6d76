package test

import (
	"testing"
)

// TestExecSessionsAreLoggedWhereExecIsOn: ECS Exec is off in production by
// default; where it is on, the cluster's ExecuteCommandConfiguration logs
// every session (Logging OVERRIDE to a CloudWatch log group with encryption
// enabled) and encrypts the data channel with a customer-managed key, whose
// policy lets CloudWatch Logs use it for that group only (CloudWatch Logs
// User Guide: principal logs.<region>.amazonaws.com, condition
// kms:EncryptionContext:aws:logs:arn); each task role may write the group.
func TestExecSessionsAreLoggedWhereExecIsOn(t *testing.T) {
	if stages["production"].stage.Cfg.Cluster.ExecEnabled {
		t.Error("ECS Exec is on in production by default")
	}
	for _, b := range all() {
		tpl := b.templates["compute"]
		conf := get(tpl.One(t, "AWS::ECS::Cluster").Props, "Configuration.ExecuteCommandConfiguration")
		if !b.stage.Cfg.Cluster.ExecEnabled {
			if conf != nil || service(b, "backend").Props["EnableExecuteCommand"] != false {
				t.Errorf("%s: exec off but configured: %s", b.label, str(conf))
			}
			continue
		}
		group := tpl.Where("AWS::Logs::LogGroup", "LogGroupName", b.stage.Names.LogGroup("ecs/exec-sessions"))
		if len(group) != 1 || get(conf, "Logging") != "OVERRIDE" || get(conf, "LogConfiguration.CloudWatchEncryptionEnabled") != true ||
			!refTo(get(conf, "LogConfiguration.CloudWatchLogGroupName"), group[0].LogicalID) {
			t.Fatalf("%s: sessions not logged to an encrypted exec log group: %s", b.label, str(conf))
		}
		keyID := str(get(conf, "KmsKeyId.Fn::GetAtt.0"))
		if !refTo(group[0].Props["KmsKeyId"], keyID) || num(group[0].Props["RetentionInDays"]) != float64(b.stage.Cfg.LogRetentionDays) {
			t.Errorf("%s: exec log group %s not encrypted with the exec key %s or wrong retention", b.label, str(group[0].Props), keyID)
		}
		var key Resource
		for _, k := range tpl.Resources("AWS::KMS::Key") {
			if k.LogicalID == keyID {
				key = k
			}
		}
		keyPolicy, _ := resolvePolicy(get(key.Props, "KeyPolicy.Statement"), b.stage.Cfg.Account).([]any)
		groupArn := "arn:aws:logs:" + b.stage.Cfg.Region + ":" + b.stage.Cfg.Account + ":log-group:" + b.stage.Names.LogGroup("ecs/exec-sessions")
		logs := request{service: "logs." + b.stage.Cfg.Region + ".amazonaws.com", action: "kms:GenerateDataKey",
			context: map[string]string{"kms:EncryptionContext:aws:logs:arn": groupArn}}
		if !allows(keyPolicy, logs) {
			t.Errorf("%s: the exec key does not let CloudWatch Logs encrypt %s", b.label, groupArn)
		}
		logs.context["kms:EncryptionContext:aws:logs:arn"] = groupArn + "-other"
		if allows(keyPolicy, logs) {
			t.Errorf("%s: the exec key lets CloudWatch Logs encrypt any log group", b.label)
		}
		for _, role := range []string{"BackendTaskTaskRole", "FrontendTaskTaskRole"} {
			if len(statementFor(statements(tpl, role), "logs:PutLogEvents")) == 0 {
				t.Errorf("%s: %s may not write the exec log group", b.label, role)
			}
		}
	}
}
