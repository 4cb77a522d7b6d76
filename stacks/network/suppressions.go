package network

import (
	"fmt"

	"github.com/bp/infra/config"
	"github.com/bp/infra/stacks/base"
)

// suppressions are the Network stack's reviewed cdk-nag exceptions.
func suppressions() []base.Suppression {
	natInstance := func(c config.Stage) bool { return c.Network.NatKind == "instance" }
	var out []base.Suppression
	out = append(out, base.Suppression{Path: "AlbSg/Resource", Rule: "AwsSolutions-EC23",
		Reason: "The internet-facing ALB is the app's public entry: only its listener ports (443, and 80 that redirects to 443) are open to 0.0.0.0/0."})
	for i := 1; i <= 6; i++ {
		path := fmt.Sprintf("Vpc/publicSubnet%d/NatInstance/Resource", i)
		when := func(c config.Stage) bool { return natInstance(c) && i <= c.Network.NatCount }
		out = append(out,
			base.Suppression{Path: path, Rule: "AwsSolutions-EC28", When: when,
				Reason: "NAT instances exist only on cheap non-production stages; their traffic is watched by the NAT bytes alarm, so paid detailed monitoring adds nothing."},
			base.Suppression{Path: path, Rule: "AwsSolutions-EC29", When: when,
				Reason: "The NAT instance is disposable and owned by CloudFormation; termination protection would block the stack updates that replace it."})
	}
	return out
}
