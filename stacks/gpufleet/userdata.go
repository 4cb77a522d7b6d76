package gpufleet

import (
	"encoding/json"
	"fmt"
	"path"
	"strings"

	"github.com/bp/infra/bootcontract"
)

// workerEnv is the content of bootcontract.EnvFile for one fleet, keyed by
// bootcontract.EnvKeys(). Values may be CDK tokens (ARNs, bucket names).
func workerEnv(p Props, f Fleet) map[string]string {
	return map[string]string{
		bootcontract.EnvAPIBaseURL:        p.Cfg.APIBaseURL(),
		bootcontract.EnvStage:             p.Cfg.Stage,
		bootcontract.EnvFleetSlug:         f.Slug,
		bootcontract.EnvASGName:           f.AsgName,
		bootcontract.EnvFleetSecretARN:    *p.Data.FleetSecret.SecretArn(),
		bootcontract.EnvRegion:            p.Cfg.Region,
		bootcontract.EnvModelsBucket:      *p.Data.ModelsBucket.BucketName(),
		bootcontract.EnvActiveBundleParam: p.Names.ActiveBundleParameter(f.Slug),
		bootcontract.EnvLogLevel:          workerLogLevel(p.Cfg.LogLevel),
		bootcontract.EnvMetricsEnabled:    "true",
		bootcontract.EnvMetricsNamespace:  bootcontract.WorkerMetricsNamespace(p.Cfg.AppPrefix, p.Cfg.Stage),
	}
}

// workerLogLevel maps the stage's Laravel log level to the four levels the
// worker accepts (debug, info, warn, error).
func workerLogLevel(level string) string {
	switch level {
	case "debug":
		return "debug"
	case "warning":
		return "warn"
	case "error", "critical":
		return "error"
	}
	return "info" // info, notice
}

// Log stream names per instance; the agent fills in {instance_id}.
const (
	WorkerLogStream  = "{instance_id}/worker"
	ComfyUILogStream = "{instance_id}/comfyui"
)

// cloudWatchAgentConfig ships the AMI units' log files to the fleet's log
// group (the one the worker role may write to), one stream per instance and
// file. Logs only: no metrics section, so the agent needs no more IAM.
func cloudWatchAgentConfig(logGroup string) string {
	type file struct {
		FilePath      string `json:"file_path"`
		LogGroupName  string `json:"log_group_name"`
		LogStreamName string `json:"log_stream_name"`
		Timezone      string `json:"timezone"`
	}
	cfg := map[string]any{"logs": map[string]any{"logs_collected": map[string]any{"files": map[string]any{
		"collect_list": []file{
			{bootcontract.WorkerLogFile, logGroup, WorkerLogStream, "UTC"},
			{bootcontract.ComfyUILogFile, logGroup, ComfyUILogStream, "UTC"},
		},
	}}}}
	out, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		panic("marshal CloudWatch agent config: " + err.Error()) // static types: cannot fail
	}
	return string(out)
}

// workerUserData is the whole boot script: write the worker's environment
// file and the CloudWatch agent config, start the agent, then queue the units
// baked into the AMI. Everything else (ComfyUI in its venv, the worker binary,
// bundle sync, fetching the fleet secret) is the AMI's and the worker's job,
// so this never runs python or pip (blocker 7) and never holds the secret
// itself, only its ARN. The agent starts first so a failing unit's logs are
// shipped, but its failure only warns: logging never holds up the worker.
// --no-block queues the units in their dependency order without waiting for
// the (possibly long) bundle sync.
func workerUserData(env map[string]string, logGroup string) string {
	var b strings.Builder
	dir := path.Dir(bootcontract.EnvFile)
	tmp := bootcontract.EnvFile + ".tmp"
	group := bootcontract.WorkerUser
	fmt.Fprintf(&b, "#!/bin/bash\nset -euo pipefail\n")
	fmt.Fprintf(&b, "install -d -m 0750 -o root -g %s %s\n", group, dir)
	fmt.Fprintf(&b, "install -m 0640 -o root -g %s /dev/null %s\n", group, tmp)
	fmt.Fprintf(&b, "cat > %s <<'WORKER_ENV'\n", tmp)
	for _, k := range bootcontract.EnvKeys() {
		v, ok := env[k]
		if !ok {
			panic("worker env lacks " + k) // a bootcontract key added without a value
		}
		fmt.Fprintf(&b, "%s=%s\n", k, v)
	}
	b.WriteString("WORKER_ENV\n")
	fmt.Fprintf(&b, "mv -f %s %s\n", tmp, bootcontract.EnvFile)
	fmt.Fprintf(&b, "cat > %s <<'CLOUDWATCH_AGENT'\n%s\nCLOUDWATCH_AGENT\n", bootcontract.CloudWatchAgentConfig, cloudWatchAgentConfig(logGroup))
	fmt.Fprintf(&b, "%s -a fetch-config -m ec2 -s -c file:%s || echo 'CloudWatch agent did not start: worker logs stay on the instance' >&2\n",
		bootcontract.CloudWatchAgentCtl, bootcontract.CloudWatchAgentConfig)
	fmt.Fprintf(&b, "systemctl daemon-reload\n")
	fmt.Fprintf(&b, "systemctl enable --now --no-block %s\n", strings.Join(bootcontract.Units(), " "))
	return b.String()
}
