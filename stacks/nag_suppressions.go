package stacks

import (
	"fmt"

	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// suppression is one reviewed exception to an AwsSolutions rule, on one
// construct path below a stack. Every entry says why it is safe.
type suppression struct {
	stack     string // naming stack kind
	path      string // construct path below the stack
	rule      string
	reason    string
	appliesTo []string
	when      func(Stage) bool // nil: always
}

// reviewedSuppressions is the one reviewed place for cdk-nag exceptions.
func reviewedSuppressions() []suppression {
	natInstance := func(s Stage) bool { return s.Cfg.Network.NatKind == "instance" }
	var out []suppression
	out = append(out, suppression{stack: "network", path: "AlbSg/Resource", rule: "AwsSolutions-EC23",
		reason: "The internet-facing ALB is the app's public entry: only its listener ports (443, and 80 that redirects to 443) are open to 0.0.0.0/0."})
	for i := 1; i <= 6; i++ {
		path := fmt.Sprintf("Vpc/publicSubnet%d/NatInstance/Resource", i)
		when := func(s Stage) bool { return natInstance(s) && i <= s.Cfg.Network.NatCount }
		out = append(out,
			suppression{stack: "network", path: path, rule: "AwsSolutions-EC28", when: when,
				reason: "NAT instances exist only on cheap non-production stages; their traffic is watched by the NAT bytes alarm, so paid detailed monitoring adds nothing."},
			suppression{stack: "network", path: path, rule: "AwsSolutions-EC29", when: when,
				reason: "The NAT instance is disposable and owned by CloudFormation; termination protection would block the stack updates that replace it."})
	}
	return out
}

// applyNagSuppressions attaches the reviewed suppressions; a path that no
// longer exists fails synthesis, so stale entries cannot linger.
func applyNagSuppressions(s Stage) {
	for _, sup := range reviewedSuppressions() {
		if sup.when != nil && !sup.when(s) {
			continue
		}
		stack := s.stackByKind(sup.stack)
		entry := &cdknag.NagPackSuppression{Id: jsii.String(sup.rule), Reason: jsii.String(sup.reason)}
		if len(sup.appliesTo) > 0 {
			applies := make([]interface{}, len(sup.appliesTo))
			for i, a := range sup.appliesTo {
				applies[i] = a
			}
			entry.AppliesTo = &applies
		}
		cdknag.NagSuppressions_AddResourceSuppressionsByPath(stack, jsii.String("/"+*stack.Node().Path()+"/"+sup.path),
			&[]*cdknag.NagPackSuppression{entry}, jsii.Bool(true))
	}
}
