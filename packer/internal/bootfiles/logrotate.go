package bootfiles

import (
	"strings"

	"github.com/bp/infra/bootcontract"
)

// LogrotateFile is the generated logrotate config (relative to packer/),
// installed as /etc/logrotate.d/<base name> by install-logging.sh.
const LogrotateFile = "logrotate/comfyui-worker"

// Logrotate keeps the unit log files small. copytruncate, not create: systemd
// holds them open (StandardOutput=append:) and never reopens them, and the
// CloudWatch agent notices the truncation and reads on from the start. The
// files only buffer what the agent ships, so a few compressed days suffice.
func Logrotate() string {
	var b strings.Builder
	b.WriteString("# " + generatedHeader + "\n")
	b.WriteString(bootcontract.WorkerLogFile + " " + bootcontract.ComfyUILogFile + " {\n")
	for _, d := range []string{"daily", "maxsize 100M", "rotate 3", "missingok", "notifempty", "compress", "copytruncate"} {
		b.WriteString("    " + d + "\n")
	}
	b.WriteString("}\n")
	return b.String()
}
