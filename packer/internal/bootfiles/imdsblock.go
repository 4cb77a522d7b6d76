package bootfiles

import (
	"fmt"
	"strings"

	"github.com/bp/infra/bootcontract"
)

// IMDSBlockScriptFile is the generated firewall script (relative to packer/),
// installed as bootcontract.IMDSBlockScript by install-imds-block.sh.
const IMDSBlockScriptFile = "firewall/comfyui-imds-block"

// IMDSBlockRule is the rule (after the chain) that refuses ComfyUI's user
// the metadata service at address: an owner match on locally generated
// packets, answered at once (REJECT) so a job fails fast instead of hanging.
func IMDSBlockRule(address string) []string {
	return []string{"-m", "owner", "--uid-owner", bootcontract.ComfyUIUser, "-d", address, "-j", "REJECT"}
}

// IMDSBlockScript inserts the rule at the top of OUTPUT for IPv4 and, when
// the kernel has IPv6, for IMDS's IPv6 address; it is idempotent (-C first),
// so a restart of the unit adds nothing twice. Any failure exits non-zero and
// ComfyUI, which requires the unit, stays down.
func IMDSBlockScript() string {
	var b strings.Builder
	b.WriteString("#!/usr/bin/env bash\n")
	b.WriteString("# " + generatedHeader + "\n")
	fmt.Fprintf(&b, "# Refuses the instance metadata service to %s (ComfyUI runs arbitrary\n", bootcontract.ComfyUIUser)
	b.WriteString("# workflows and custom nodes); every other user, the worker included, keeps it.\n")
	b.WriteString("set -euo pipefail\n\n")
	b.WriteString("# block TOOL ADDRESS: insert the rule unless it is there already.\n")
	b.WriteString("block() {\n")
	b.WriteString("  local tool=\"$1\" address=\"$2\"\n")
	rule := IMDSBlockRule(`"$address"`)
	fmt.Fprintf(&b, "  local rule=(OUTPUT %s)\n", strings.Join(rule, " "))
	b.WriteString("  if \"$tool\" -w -C \"${rule[@]}\" 2>/dev/null; then\n")
	b.WriteString("    echo \"${tool}: ${address} already refused to " + bootcontract.ComfyUIUser + "\"\n")
	b.WriteString("  else\n")
	b.WriteString("    \"$tool\" -w -I \"${rule[@]}\"\n")
	b.WriteString("    echo \"${tool}: ${address} refused to " + bootcontract.ComfyUIUser + "\"\n")
	b.WriteString("  fi\n")
	b.WriteString("}\n\n")
	fmt.Fprintf(&b, "block iptables %s\n", bootcontract.IMDSAddressV4)
	b.WriteString("# IMDS answers on IPv6 too (Nitro instances); a kernel without IPv6 cannot reach it.\n")
	b.WriteString("if [[ -e /proc/net/if_inet6 ]]; then\n")
	fmt.Fprintf(&b, "  block ip6tables %s\n", bootcontract.IMDSAddressV6)
	b.WriteString("fi\n")
	return b.String()
}
