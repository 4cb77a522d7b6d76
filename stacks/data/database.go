package data

import (
	"strconv"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsrds"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/jsii-runtime-go"
	"github.com/bp/infra/config"
	"github.com/bp/infra/stacks/base"
	"github.com/bp/infra/stacks/network"
)

// Database character set and collation (system-facts section 6).
const (
	DbCharset    = "utf8mb4"
	DbCollation  = "utf8mb4_unicode_ci"
	DbMasterUser = "bp_admin"
)

// dbLogExports are the MariaDB logs shipped to CloudWatch; "audit" joins
// them with database.auditLog.
func dbLogExports(d config.Database) []string {
	if d.AuditLog {
		return []string{"audit", "error", "slowquery"}
	}
	return []string{"error", "slowquery"}
}

// auditEvents are what the MariaDB audit plugin records: logins, schema
// changes and user/grant changes (QUERY_DDL, QUERY_DCL), not every query.
const auditEvents = "CONNECT,QUERY_DDL,QUERY_DCL"

func addDatabase(stack awscdk.Stack, p Props, d *Data) {
	db := p.Cfg.Database
	identifier := p.Names.Resource("db")
	// A customer-managed key in every stage: the review found staging storage
	// unencrypted with the finding suppressed.
	key := awskms.NewKey(stack, jsii.String("DatabaseKey"), &awskms.KeyProps{
		Description:       jsii.String("Encrypts " + identifier + " storage and Performance Insights"),
		EnableKeyRotation: jsii.Bool(true),
		RemovalPolicy:     awscdk.RemovalPolicy_RETAIN, // snapshots outlive the instance
	})
	engine := awsrds.DatabaseInstanceEngine_MariaDb(&awsrds.MariaDbInstanceEngineProps{
		Version: awsrds.MariaDbEngineVersion_Of(jsii.String(db.EngineVersion), jsii.String(majorVersion(db.EngineVersion))),
	})
	params := awsrds.NewParameterGroup(stack, jsii.String("DatabaseParameters"), &awsrds.ParameterGroupProps{
		Engine:      engine,
		Description: jsii.String(identifier + ": utf8mb4, bounded connections, slow query log"),
		Parameters: &map[string]*string{
			"character_set_server": jsii.String(DbCharset),
			"collation_server":     jsii.String(DbCollation),
			"max_connections":      jsii.String(strconv.Itoa(db.MaxConnections)),
			"slow_query_log":       jsii.String("1"),
			"long_query_time":      jsii.String("2"),
			"log_output":           jsii.String("FILE"),
			// Every connection must use TLS (RDS for MariaDB: "set the
			// require_secure_transport parameter to ON"; RDS boolean
			// parameters take 1/0, like slow_query_log). Dynamic: no reboot.
			"require_secure_transport": jsii.String("1"),
		},
	})
	// The export log groups exist before the instance, with the stage's
	// retention, instead of being created without one by RDS.
	var logGroups []awslogs.LogGroup
	for _, name := range dbLogExports(db) {
		logGroups = append(logGroups, base.LogGroup(stack, "DatabaseLog-"+name, "/aws/rds/instance/"+identifier+"/"+name, p.Cfg.LogRetentionDays))
	}
	removalPolicy := awscdk.RemovalPolicy_SNAPSHOT
	if db.RemovalPolicy == "retain" {
		removalPolicy = awscdk.RemovalPolicy_RETAIN
	}
	props := &awsrds.DatabaseInstanceProps{
		InstanceIdentifier: jsii.String(identifier),
		Engine:             engine,
		InstanceType:       awsec2.NewInstanceType(jsii.String(strings.TrimPrefix(db.InstanceClass, "db."))),
		Vpc:                p.Net.Vpc,
		VpcSubnets:         &awsec2.SubnetSelection{SubnetType: awsec2.SubnetType_PRIVATE_ISOLATED},
		SecurityGroups:     &[]awsec2.ISecurityGroup{p.Net.SecurityGroups.Database},
		Port:               jsii.Number(network.DatabasePort),
		// RDS owns the master password in Secrets Manager and rotates it (every
		// 7 days by default); DB-init reads the current value at each deploy,
		// and the secret lives and dies with the instance (so a retained
		// database keeps its credentials).
		ManageMasterUserPassword: jsii.Bool(true),
		Credentials:              awsrds.Credentials_FromUsername(jsii.String(DbMasterUser), nil),
		ParameterGroup:           params,
		StorageType:              awsrds.StorageType_GP3,
		AllocatedStorage:         jsii.Number(float64(db.AllocatedStorageGb)),
		MaxAllocatedStorage:      jsii.Number(float64(db.MaxAllocatedStorageGb)),
		StorageEncrypted:         jsii.Bool(true),
		StorageEncryptionKey:     key,
		MultiAz:                  jsii.Bool(db.MultiAz),
		BackupRetention:          days(db.BackupRetentionDays),
		CopyTagsToSnapshot:       jsii.Bool(true),
		DeletionProtection:       jsii.Bool(db.DeletionProtection),
		RemovalPolicy:            removalPolicy,
		CloudwatchLogsExports:    jsii.Strings(dbLogExports(db)...),
		OptionGroup:              auditOptions(stack, engine, identifier, db),
		// A pinned minor with automatic minor upgrades on would drift (RDS
		// moves the minor, the template keeps the old one) and a later edit
		// would ask RDS to downgrade. Minors move forward through
		// database.engineVersion instead.
		AutoMinorVersionUpgrade:   jsii.Bool(false),
		PubliclyAccessible:        jsii.Bool(false),
		EnablePerformanceInsights: jsii.Bool(db.PerformanceInsights),
	}
	if db.PerformanceInsights {
		props.PerformanceInsightEncryptionKey = key
		props.PerformanceInsightRetention = awsrds.PerformanceInsightRetention_DEFAULT // 7 days, free
	}
	instance := awsrds.NewDatabaseInstance(stack, jsii.String("Database"), props)
	for _, g := range logGroups {
		instance.Node().AddDependency(g)
	}
	d.Database = instance
	d.DbMasterSecret = instance.Secret()
	// The attachment adds host, port and engine to the app user's secret, so
	// ECS can inject *_DB_HOST from it like the user name and password.
	d.DbAppSecret = awssecretsmanager.NewSecretTargetAttachment(stack, jsii.String("DbAppSecretAttachment"), &awssecretsmanager.SecretTargetAttachmentProps{
		Secret: d.DbAppSecret,
		Target: instance,
	})
}

// majorVersion turns "10.11.15" into "10.11".
func majorVersion(full string) string {
	parts := strings.SplitN(full, ".", 3)
	return parts[0] + "." + parts[1]
}

// auditOptions is the option group with the MariaDB audit plugin
// (MARIADB_AUDIT_PLUGIN, RDS for MariaDB User Guide); nil keeps RDS's default.
func auditOptions(stack awscdk.Stack, engine awsrds.IInstanceEngine, identifier string, db config.Database) awsrds.IOptionGroup {
	if !db.AuditLog {
		return nil
	}
	return awsrds.NewOptionGroup(stack, jsii.String("DatabaseOptions"), &awsrds.OptionGroupProps{
		Engine:      engine,
		Description: jsii.String(identifier + ": MariaDB audit plugin (" + auditEvents + ")"),
		Configurations: &[]*awsrds.OptionConfiguration{{
			Name:     jsii.String("MARIADB_AUDIT_PLUGIN"),
			Settings: &map[string]*string{"SERVER_AUDIT_EVENTS": jsii.String(auditEvents)},
		}},
	})
}
