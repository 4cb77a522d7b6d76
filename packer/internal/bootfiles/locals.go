package bootfiles

import (
	"fmt"
	"strings"

	"github.com/bp/infra/bootcontract"
)

// BootLocalsFile is the generated Packer file that hands the bootcontract
// paths to the provisioning scripts as environment variables.
const BootLocalsFile = "bootcontract.gen.pkr.hcl"

// BootLocalName is the Packer local holding BootEnv(): local.boot_env.
const BootLocalName = "boot_env"

// EnvVar is one KEY=value the provisioning scripts read.
type EnvVar struct {
	Key   string
	Value string
}

// BootEnv lists the variables every provisioning script receives. Scripts
// require them (no defaults in bash), so a path exists in one place only.
func BootEnv() []EnvVar {
	return []EnvVar{
		{"BOOT_WORKER_HOME", bootcontract.WorkerHome},
		{"BOOT_WORKER_BINARY", bootcontract.WorkerBinary},
		{"BOOT_WORKER_STATE_DIR", bootcontract.WorkerStateDir},
		{"BOOT_WORKER_USER", bootcontract.WorkerUser},
		{"BOOT_COMFYUI_USER", bootcontract.ComfyUIUser},
		{"BOOT_COMFYUI_STATE_HOME", bootcontract.ComfyUIStateHome},
		{"BOOT_ENV_FILE", bootcontract.EnvFile},
		{"BOOT_COMFYUI_HOME", bootcontract.ComfyUIHome},
		{"BOOT_COMFYUI_VENV", bootcontract.ComfyUIVenv},
		{"BOOT_COMFYUI_PYTHON", bootcontract.ComfyUIPython},
		{"BOOT_COMFYUI_MODELS_DIR", bootcontract.ComfyUIModelsDir},
		{"BOOT_COMFYUI_CUSTOM_NODES_DIR", bootcontract.ComfyUICustomNodesDir},
		{"BOOT_COMFYUI_WRITABLE_DIRS", strings.Join(bootcontract.ComfyUIWritableDirs(), " ")},
		{"BOOT_BAKED_BUNDLE_ID_FILE", bootcontract.BakedBundleIDFile},
		{"BOOT_UNITS", strings.Join(bootcontract.Units(), " ")},
		{"BOOT_IMDS_BLOCK_UNIT", bootcontract.IMDSBlockUnit},
		{"BOOT_COMFYUI_UNIT", bootcontract.ComfyUIUnit},
		{"BOOT_IMDS_BLOCK_SCRIPT", bootcontract.IMDSBlockScript},
		{"BOOT_IMDS_ADDRESSES", bootcontract.IMDSAddressV4 + " " + bootcontract.IMDSAddressV6},
		{"BOOT_LOG_DIR", bootcontract.LogDir},
		{"BOOT_CLOUDWATCH_AGENT_BINARY", bootcontract.CloudWatchAgentBinary},
		{"BOOT_CLOUDWATCH_AGENT_CTL", bootcontract.CloudWatchAgentCtl},
		// Names (not values) of env-file keys a build step sets for the worker.
		{"BOOT_KEY_MODELS_BUCKET", bootcontract.EnvModelsBucket},
		{"BOOT_KEY_REGION", bootcontract.EnvRegion},
		{"BOOT_KEY_ACTIVE_BUNDLE_PARAM", bootcontract.EnvActiveBundleParam},
	}
}

// BootEnvStrings renders BootEnv as KEY=value strings (os/exec and Packer form).
func BootEnvStrings() []string {
	vars := BootEnv()
	out := make([]string, 0, len(vars))
	for _, v := range vars {
		out = append(out, v.Key+"="+v.Value)
	}
	return out
}

// BootLocals renders the Packer locals block with local.boot_env.
func BootLocals() string {
	var b strings.Builder
	b.WriteString("# " + generatedHeader + "\n")
	b.WriteString("# Install paths and unit names passed to every provisioning script.\n")
	b.WriteString("locals {\n")
	fmt.Fprintf(&b, "  %s = [\n", BootLocalName)
	for _, kv := range BootEnvStrings() {
		fmt.Fprintf(&b, "    %q,\n", kv)
	}
	b.WriteString("  ]\n}\n")
	return b.String()
}
