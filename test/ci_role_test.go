package test

import (
	"strings"
	"testing"
)

// TestGitHubDeployRoleTrustsOneRepositoryAndEnvironment: the ci stack's role
// can be assumed only with a GitHub OIDC token for the configured repository
// running in the GitHub environment named like the stage. GitHub Docs,
// "Configuring OpenID Connect in Amazon Web Services": the provider
// https://token.actions.githubusercontent.com, audience sts.amazonaws.com,
// and for a job that references an environment the subject
// "repo:<owner>/<repo>:environment:<name>"; sts:AssumeRoleWithWebIdentity.
func TestGitHubDeployRoleTrustsOneRepositoryAndEnvironment(t *testing.T) {
	for _, b := range all() {
		ci := b.templates["ci"]
		cfg := b.stage.Cfg
		if st := b.stage.CI.Stack; strings.HasPrefix(*st.Node().Path(), cfg.Stage+"/") {
			t.Errorf("%s: the ci stack %s is inside the stage: make deploy would update the role it runs as", b.label, *st.Node().Path())
		}
		provider := ci.One(t, "AWS::IAM::OIDCProvider")
		if provider.Props["Url"] != "https://token.actions.githubusercontent.com" || !equalJSON(provider.Props["ClientIdList"], []any{"sts.amazonaws.com"}) {
			t.Errorf("%s: OIDC provider %s", b.label, str(provider.Props))
		}
		role := ci.One(t, "AWS::IAM::Role")
		trust := anyList(get(role.Props, "AssumeRolePolicyDocument.Statement"))
		if len(trust) != 1 {
			t.Fatalf("%s: %d trust statements", b.label, len(trust))
		}
		st := trust[0]
		want := map[string]any{
			"token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
			"token.actions.githubusercontent.com:sub": "repo:" + cfg.Ci.GitHubRepository + ":environment:" + cfg.Stage,
		}
		if get(st, "Action") != "sts:AssumeRoleWithWebIdentity" || !equalJSON(get(st, "Condition.StringEquals"), want) ||
			!refTo(get(st, "Principal.Federated"), provider.LogicalID) || get(st, "Condition.StringLike") != nil {
			t.Errorf("%s: trust %s, want exactly %v", b.label, str(st), want)
		}
		// What make deploy needs and nothing else: the CDK bootstrap roles and the preflight's reads.
		var actions []string
		for _, s := range statements(ci, "DeployRole") {
			actions = append(actions, actionsOf(s)...)
			if strings.Contains(str(s["Resource"]), `"*"`) || s["Resource"] == "*" {
				t.Errorf("%s: deploy role grants %v on *", b.label, actionsOf(s))
			}
		}
		for _, a := range []string{"sts:AssumeRole", "ssm:GetParameter", "ecr:DescribeImages"} {
			if !containsStr(actions, a) {
				t.Errorf("%s: deploy role lacks %s", b.label, a)
			}
		}
		if len(actions) != 3 {
			t.Errorf("%s: deploy role actions %v, want only the three make deploy needs", b.label, actions)
		}
	}
}
