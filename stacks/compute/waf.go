package compute

import (
	"github.com/aws/aws-cdk-go/awscdk/v2/awswafv2"
	"github.com/aws/jsii-runtime-go"

	"github.com/bp/infra/constructs/webacl"
)

// Paths the web ACL treats on their own.
const (
	workerAPIPrefix   = "/api/worker/"
	workerRegisterAPI = "/api/worker/register"
)

// addWaf puts the stage's web ACL in front of the ALB: tight rate limits on
// worker registration and on the public API, then AWS's common and
// known-bad-inputs rule groups. The common group's 8 KB body limit only
// counts: job requests carry whole ComfyUI workflow graphs.
func addWaf(c Compute, p Props) {
	w := p.Cfg.Waf
	if !w.Enabled {
		return
	}
	acl := webacl.New(c.Stack, "WebAcl", p.Names.Resource("alb"), webacl.Regional, []webacl.Rule{
		{Name: "worker-register-rate", Rate: &webacl.Rate{Limit: w.RegisterRequestsPer5Min, Under: []string{workerRegisterAPI}}},
		{Name: "api-rate", Rate: &webacl.Rate{Limit: w.APIRequestsPer5Min, Under: []string{"/api/"}, Except: []string{workerAPIPrefix}}},
		{Name: "aws-common", Managed: &webacl.Managed{Group: "AWSManagedRulesCommonRuleSet", Count: []string{"SizeRestrictions_BODY"}}},
		{Name: "aws-known-bad-inputs", Managed: &webacl.Managed{Group: "AWSManagedRulesKnownBadInputsRuleSet"}},
	})
	awswafv2.NewCfnWebACLAssociation(c.Stack, jsii.String("WebAclAlb"), &awswafv2.CfnWebACLAssociationProps{
		ResourceArn: c.Alb.LoadBalancerArn(),
		WebAclArn:   acl.AttrArn(),
	})
}
