package data

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/jsii-runtime-go"

	"github.com/bp/infra/constructs/gofunction"
	"github.com/bp/infra/stacks/base"
)

// addDbInit creates the databases and the application user before the first
// migration (review blocker 6). The handler is Go compiled at synth; it runs
// in the private subnets in its own security group and answers CloudFormation
// itself, so the deploy waits for it and fails with the real SQL error.
func addDbInit(stack awscdk.Stack, p Props, d *Data) {
	name := p.Names.Function("db-init")
	fn := gofunction.New(stack, "DbInitFunction", gofunction.Props{
		Package:       "lambdas/cmd/dbinit",
		FunctionName:  name,
		Description:   "Creates the app databases and user on " + p.Names.Resource("db") + " (idempotent; never drops)",
		Timeout:       awscdk.Duration_Minutes(jsii.Number(5)),
		MemoryMiB:     256,
		LogRetention:  base.Retention(p.Cfg.LogRetentionDays),
		Vpc:           p.Net.Vpc,
		Subnets:       &awsec2.SubnetSelection{SubnetType: awsec2.SubnetType_PRIVATE_WITH_EGRESS},
		SecurityGroup: p.Net.SecurityGroups.DbInit,
	})
	d.DbMasterSecret.GrantRead(fn.Role, nil)
	d.DbAppSecret.GrantRead(fn.Role, nil)

	dbs := make([]*string, 0, len(p.Cfg.Database.Databases))
	for _, name := range p.Cfg.Database.Databases {
		dbs = append(dbs, jsii.String(name))
	}
	cr := awscdk.NewCustomResource(stack, jsii.String("DbInit"), &awscdk.CustomResourceProps{
		ServiceToken: fn.Function.FunctionArn(),
		ResourceType: jsii.String("Custom::DbInit"),
		Properties: &map[string]interface{}{
			"MasterSecretArn": d.DbMasterSecret.SecretArn(),
			"AppSecretArn":    d.DbAppSecret.SecretArn(),
			"Host":            d.Database.DbInstanceEndpointAddress(),
			"Port":            d.Database.DbInstanceEndpointPort(),
			"Databases":       &dbs,
			"Charset":         jsii.String(DbCharset),
			"Collation":       jsii.String(DbCollation),
			"Tls":             jsii.String("true"),
			// DB-init creates (or alters) the app user REQUIRE SSL; a changed
			// property is what makes CloudFormation run it again on a stage
			// whose user predates that.
			"AppUserTls": jsii.String("required"),
			// A new value re-runs DB-init after the app user's secret changed.
			"AppUserSyncToken": jsii.String(p.Cfg.Database.AppUserSyncToken),
		},
		// Deleting the stack never drops data: the handler ignores Delete.
		RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
	})
	// The role's grants must exist before CloudFormation invokes the handler
	// (the database itself is ordered by the Host and Port references).
	cr.Node().AddDependency(fn.Role)
}
