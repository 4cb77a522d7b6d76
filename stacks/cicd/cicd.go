// Package cicd is the stack <app>-<stage>-ci: the role GitHub Actions deploys
// the stage with, trusted through GitHub's OIDC provider for one repository
// and one GitHub environment only. It is not part of the stage (make deploy
// never updates the role it runs as): an account admin deploys it once with
// make deploy-ci, after cdk bootstrap.
package cicd

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/bp/infra/config"
	"github.com/bp/infra/naming"
	"github.com/bp/infra/stacks/base"
)

// GitHub's OIDC issuer and the audience the aws-actions/configure-aws-credentials
// action requests (GitHub Docs, "Configuring OpenID Connect in Amazon Web Services").
const (
	issuer   = "token.actions.githubusercontent.com"
	audience = "sts.amazonaws.com"
)

// Kind is the stack's kind in <app>-<stage>-<kind>.
const Kind = "ci"

// Props configure the ci stack.
type Props struct {
	Cfg   config.Stage
	Names naming.Names
}

// CI is the stack and its deploy role.
type CI struct {
	Stack      awscdk.Stack
	DeployRole awsiam.Role
}

// New builds the ci stack at the app's top level.
func New(scope constructs.Construct, p Props) CI {
	// Below its own top-level construct: outside the stage's Stage, so
	// `make deploy STAGE=...` ('<stage>/*') never selects it.
	holder := constructs.NewConstruct(scope, jsii.String(Kind+"-"+p.Cfg.Stage))
	base.TagStage(holder, p.Cfg)
	stack := base.NewStack(holder, p.Cfg, p.Names, Kind, "GitHub Actions deploy role of "+p.Names.Prefix())
	provider := p.Cfg.Ci.OidcProviderArn
	if provider == "" {
		oidc := awsiam.NewCfnOIDCProvider(stack, jsii.String("GitHubOidc"), &awsiam.CfnOIDCProviderProps{
			Url:          jsii.String("https://" + issuer),
			ClientIdList: jsii.Strings(audience),
		})
		provider = *oidc.AttrArn()
	}
	// sub is "repo:<owner>/<repo>:environment:<name>" for a job that runs in
	// a GitHub environment (GitHub Docs, OpenID Connect, example subject claims).
	principal := awsiam.NewWebIdentityPrincipal(jsii.String(provider), &map[string]interface{}{
		"StringEquals": map[string]interface{}{
			issuer + ":aud": audience,
			issuer + ":sub": "repo:" + p.Cfg.Ci.GitHubRepository + ":environment:" + p.Cfg.Stage,
		},
	})
	role := awsiam.NewRole(stack, jsii.String("DeployRole"), &awsiam.RoleProps{
		RoleName:           jsii.String(p.Names.Resource("github-deploy")),
		AssumedBy:          principal,
		Description:        jsii.String("GitHub Actions of " + p.Cfg.Ci.GitHubRepository + ", environment " + p.Cfg.Stage + ": make deploy STAGE=" + p.Cfg.Stage),
		MaxSessionDuration: awscdk.Duration_Hours(jsii.Number(1)),
	})
	grantDeploy(stack, role, p)
	awscdk.NewCfnOutput(stack, jsii.String("DeployRoleArn"), &awscdk.CfnOutputProps{
		Value:       role.RoleArn(),
		Description: jsii.String("The GitHub environment " + p.Cfg.Stage + "'s secret AWS_DEPLOY_ROLE_ARN"),
	})
	base.Finish(stack, p.Cfg, p.Names, nil) // no exceptions
	awscdk.Aspects_Of(stack).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{Verbose: jsii.Bool(true)}), nil)
	return CI{Stack: stack, DeployRole: role}
}

// grantDeploy is what `make deploy` does with the role: assume the CDK
// bootstrap roles (CloudFormation itself deploys with the bootstrap's
// execution role) and run the preflight's reads.
func grantDeploy(stack awscdk.Stack, role awsiam.Role, p Props) {
	q, account, region := p.Cfg.Ci.BootstrapQualifier, p.Cfg.Account, p.Cfg.Region
	var bootstrap []*string
	for _, r := range []string{"deploy", "file-publishing", "image-publishing", "lookup"} {
		bootstrap = append(bootstrap, stack.FormatArn(&awscdk.ArnComponents{
			Service: jsii.String("iam"), Region: jsii.String(""), Resource: jsii.String("role"),
			ResourceName: jsii.String("cdk-" + q + "-" + r + "-role-" + account + "-" + region),
		}))
	}
	role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid: jsii.String("CdkBootstrapRoles"), Actions: jsii.Strings("sts:AssumeRole"), Resources: &bootstrap,
	}))
	params := []*string{base.SSMParameterArn(stack, "/cdk-bootstrap/"+q+"/version")}
	for _, f := range p.Cfg.Fleets {
		params = append(params, base.SSMParameterArn(stack, f.AmiParameter))
	}
	role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid: jsii.String("PreflightParameters"), Actions: jsii.Strings("ssm:GetParameter"), Resources: &params,
	}))
	var repos []*string
	for _, svc := range []string{"backend", "frontend"} {
		repos = append(repos, stack.FormatArn(&awscdk.ArnComponents{
			Service: jsii.String("ecr"), Resource: jsii.String("repository"), ResourceName: jsii.String(p.Names.EcrRepository(svc)),
		}))
	}
	role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid: jsii.String("PreflightImages"), Actions: jsii.Strings("ecr:DescribeImages"), Resources: &repos,
	}))
}
