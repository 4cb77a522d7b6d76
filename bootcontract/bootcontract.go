// Package bootcontract is the single source of truth for the GPU instance boot
// path: where the AMI installs ComfyUI and the worker, the systemd unit names,
// and the environment file that the GpuFleet user data writes and the worker
// reads. The GpuFleet stack, the Packer templates' tests and the worker all use
// these values, so a rename here is caught everywhere at once (review blocker 7).
package bootcontract

// Install paths baked into the AMI.
const (
	WorkerHome      = "/opt/worker"
	WorkerBinary    = "/opt/worker/bin/worker"
	WorkerStateDir  = "/var/lib/comfyui-worker" // persisted registration token (0600)
	WorkerTokenFile = "/var/lib/comfyui-worker/token.json"
	// WorkerUser runs the worker and the bundle sync. It owns the state
	// folder, reads the env file and may use the instance role via IMDS.
	WorkerUser = "comfyui-worker"
	// ComfyUIUser runs ComfyUI, which executes arbitrary workflow graphs and
	// custom nodes: it reads /opt/comfyui, writes only ComfyUIWritableDirs,
	// cannot read the worker's env, state or token, and cannot reach IMDS.
	ComfyUIUser = "comfyui"
	// ComfyUIStateHome is ComfyUIUser's home: its systemd CacheDirectory (pip,
	// torch and Hugging Face caches), the only place it writes outside ComfyUIHome.
	ComfyUIStateHome = "/var/cache/comfyui"

	ComfyUIHome      = "/opt/comfyui"
	ComfyUIVenv      = "/opt/comfyui/venv"
	ComfyUIPython    = "/opt/comfyui/venv/bin/python"
	ComfyUIModelsDir = "/opt/comfyui/models"
	ComfyUIHost      = "127.0.0.1"
	ComfyUIPort      = 8188
	ComfyUIURL       = "http://127.0.0.1:8188"

	ComfyUICustomNodesDir = "/opt/comfyui/custom_nodes"
)

// ComfyUIWritableDirs are the only folders of ComfyUIHome that ComfyUIUser
// writes (uploads, results, scratch, settings). Models and custom nodes
// belong to WorkerUser (bundle sync) and are only readable to ComfyUI, so a
// workflow cannot plant code that the next ComfyUI start would load.
func ComfyUIWritableDirs() []string {
	return []string{"/opt/comfyui/input", "/opt/comfyui/output", "/opt/comfyui/temp", "/opt/comfyui/user"}
}

// Instance metadata service: ComfyUIUser is refused both addresses by an
// owner-match firewall rule (IMDSBlockUnit) so a job cannot use the instance
// role; the worker still reaches IMDS (Spot notices, credentials).
const (
	IMDSAddressV4 = "169.254.169.254"
	IMDSAddressV6 = "fd00:ec2::254"
	// IMDSBlockScript adds the rules (generated from this package).
	IMDSBlockScript = "/usr/local/sbin/comfyui-imds-block"
)

// Model bundle state, directly in ComfyUIHome. The names are the ones the old
// installer and the AMI pipeline already use; keep them exactly.
const (
	// BakedBundleIDFile holds the id of the bundle baked into the AMI; the
	// boot-time sync downloads nothing when the fleet's active bundle equals it.
	BakedBundleIDFile = "/opt/comfyui/.baked_bundle_id"
	// ActiveBundleIDFile holds the id of the bundle whose files are on disk.
	ActiveBundleIDFile = "/opt/comfyui/.active_bundle_id"
	// InstalledBundlePathsFile lists the paths that bundle installed, one per
	// line relative to ComfyUIHome; the next bundle removes those it lacks.
	InstalledBundlePathsFile = "/opt/comfyui/.installed_bundle_paths"
)

// Log files. The units append stdout and stderr here (the worker logs JSON;
// bundle sync is the worker binary too, so it shares the worker's file); the
// CloudWatch agent ships them to the fleet's log group, one stream per
// instance and file. LogDir belongs to WorkerUser.
const (
	LogDir         = "/var/log/comfyui-worker"
	WorkerLogFile  = "/var/log/comfyui-worker/worker.log"
	ComfyUILogFile = "/var/log/comfyui-worker/comfyui.log"
)

// Amazon CloudWatch agent: installed in the AMI (not started), configured and
// started by the GpuFleet user data, which writes CloudWatchAgentConfig.
const (
	CloudWatchAgentBinary = "/opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent"
	CloudWatchAgentCtl    = "/opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl"
	CloudWatchAgentConfig = "/etc/comfyui-worker/cloudwatch-agent.json"
)

// EnvFile is written by the GpuFleet user data and read by the worker units
// (systemd EnvironmentFile=).
const EnvFile = "/etc/comfyui-worker/worker.env"

// systemd units baked into the AMI, in start order.
const (
	// IMDSBlockUnit applies the IMDS block before ComfyUI starts; ComfyUIUnit
	// requires it, so ComfyUI never runs without the rule.
	IMDSBlockUnit  = "comfyui-imds-block.service"
	ComfyUIUnit    = "comfyui.service"
	BundleSyncUnit = "comfyui-bundle-sync.service"
	WorkerUnit     = "comfyui-worker.service"
)

// Units lists the units the user data starts, in start order.
func Units() []string { return []string{IMDSBlockUnit, ComfyUIUnit, BundleSyncUnit, WorkerUnit} }

// ExitComfyUIUnavailable is the worker's exit status when ComfyUI never
// became ready or stopped answering for the worker's -comfyui-down-timeout.
// The worker unit then restarts ComfyUIUnit too (a hung ComfyUI does not exit
// by itself), and systemd's Restart=always brings the worker back.
const ExitComfyUIUnavailable = 3

// Keys of EnvFile. The worker reads exactly these.
const (
	EnvAPIBaseURL        = "WORKER_API_BASE_URL"        // https://<domain>; the worker calls <base>/api/worker/<verb>
	EnvStage             = "WORKER_STAGE"               // staging | production
	EnvFleetSlug         = "WORKER_FLEET_SLUG"          // e.g. gpu-default
	EnvASGName           = "WORKER_ASG_NAME"            // the fleet's Auto Scaling group
	EnvFleetSecretARN    = "WORKER_FLEET_SECRET_ARN"    // Secrets Manager ARN of COMFYUI_FLEET_SECRET
	EnvRegion            = "AWS_REGION"                 // region of every SDK client
	EnvModelsBucket      = "WORKER_MODELS_BUCKET"       // bucket with assets/ and bundles/
	EnvActiveBundleParam = "WORKER_ACTIVE_BUNDLE_PARAM" // SSM parameter /<app>/<stage>/fleets/<slug>/active_bundle
	EnvLogLevel          = "WORKER_LOG_LEVEL"           // debug | info | warn | error
	EnvFleetSecret       = "WORKER_FLEET_SECRET"        // local runs only: the secret itself instead of an ARN
	EnvComfyUIURL        = "WORKER_COMFYUI_URL"         // optional; defaults to ComfyUIURL
	EnvMetricsEnabled    = "WORKER_METRICS_ENABLED"     // "true" publishes busy/idle (WorkerBusy)
	EnvMetricsNamespace  = "WORKER_METRICS_NAMESPACE"   // the stage's own worker namespace, WorkerMetricsNamespace
)

// EnvKeys lists every key the user data writes, in file order.
func EnvKeys() []string {
	return []string{EnvAPIBaseURL, EnvStage, EnvFleetSlug, EnvASGName, EnvFleetSecretARN,
		EnvRegion, EnvModelsBucket, EnvActiveBundleParam, EnvLogLevel, EnvMetricsEnabled, EnvMetricsNamespace}
}

// MetricsNamespace is where the backend publishes the fleet metrics the
// scaling reads (QueueDepth, BacklogPerInstance, ...), with dimensions
// DimFleetSlug and DimStage. Only the backend may write it: a GPU box that
// could would scale its fleet to the maximum or to zero.
const MetricsNamespace = "ComfyUI/Workers"

// Dimensions of the fleet metrics (and of the workers' own).
const (
	DimFleetSlug = "FleetSlug"
	DimStage     = "Stage"
)

// Tags every fleet Auto Scaling group carries and propagates to its
// instances. The fleet IAM policies are conditioned on them and the fleet
// Lambdas refuse a group whose Stage tag is not their own stage.
const (
	TagFleetSlug = "FleetSlug"
	TagStage     = "Stage" // also the cost-allocation tag of every resource
)

// WorkerMetricsNamespace is where one stage's GPU workers publish their own
// metrics (WorkerBusy): "<app>/<stage>/gpu-worker". The worker role may write
// only there, so no box of one stage can write another stage's metrics.
func WorkerMetricsNamespace(app, stage string) string { return app + "/" + stage + "/gpu-worker" }
