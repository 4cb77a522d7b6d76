// Package naming derives every physical name of a stage from the app prefix and
// the stage, in one place, so no two stages can collide (review blocker 8) and
// the names other systems depend on (system-facts section 1) live in one file.
package naming

import "fmt"

// Names derives physical names for one app prefix and stage.
type Names struct {
	App   string
	Stage string
}

// New returns the names of a stage.
func New(app, stage string) Names { return Names{App: app, Stage: stage} }

// Stack kinds, in deploy order.
const (
	Network       = "network"
	Data          = "data"
	Compute       = "compute"
	GpuFleet      = "gpu-fleet"
	Observability = "observability"
)

// Prefix is "<app>-<stage>", the start of most names.
func (n Names) Prefix() string { return n.App + "-" + n.Stage }

// Stack is the CloudFormation stack name of a stack kind.
func (n Names) Stack(kind string) string { return n.Prefix() + "-" + kind }

// Resource names a stage-scoped resource: "<app>-<stage>-<what>".
func (n Names) Resource(what string) string { return n.Prefix() + "-" + what }

// Cluster is the ECS cluster CI/CD deploys to.
func (n Names) Cluster() string { return n.Prefix() }

// Service is an ECS service name and task family: "<app>-<stage>-backend".
func (n Names) Service(svc string) string { return n.Prefix() + "-" + svc }

// EcrRepository is "<app>-<svc>-<stage>" (the pipeline's order, not ours).
func (n Names) EcrRepository(svc string) string { return n.App + "-" + svc + "-" + n.Stage }

// ImageTag is the tag of a repository's image the pipeline pushed: the
// moving "<prefix>latest", or "<prefix><sha7>" when a deploy pins the build
// (-c imageTag=<sha7>). The backend repository holds both of its images under
// the prefixes "php-" and "nginx-"; the frontend's has none.
func ImageTag(prefix, pinned string) string {
	if pinned == "" {
		pinned = "latest"
	}
	return prefix + pinned
}

// Path is an SSM / Secrets Manager / log group path: "/<app>/<stage>/<rest>".
func (n Names) Path(rest string) string { return "/" + n.App + "/" + n.Stage + "/" + rest }

// Secret is the Secrets Manager name of an app secret.
func (n Names) Secret(key string) string { return n.Path("secrets/" + key) }

// LogGroup is a stage-scoped log group name.
func (n Names) LogGroup(what string) string { return n.Path("logs/" + what) }

// AmiParameter is where the AMI pipeline writes a fleet's image id.
func (n Names) AmiParameter(slug string) string {
	return fmt.Sprintf("/%s/ami/fleets/%s/%s", n.App, n.Stage, slug)
}

// Fleet pointers the backend's Admin UI writes per fleet.
const (
	ActiveBundlePointer  = "active_bundle"  // the model bundle's S3 prefix
	DesiredConfigPointer = "desired_config" // JSON with template_slug, instance_type
)

// FleetPointerParameter is "/<app>/<stage>/fleets/<slug>/<pointer>"; slug "*"
// matches every fleet of the stage.
func (n Names) FleetPointerParameter(slug, pointer string) string {
	return n.Path("fleets/" + slug + "/" + pointer)
}

// NatEgressParameter lists the stage's NAT public addresses as CIDRs.
func (n Names) NatEgressParameter() string { return n.Path("network/nat-egress-cidrs") }

// ActiveBundleParameter holds the model bundle prefix a fleet should run.
func (n Names) ActiveBundleParameter(slug string) string {
	return n.FleetPointerParameter(slug, ActiveBundlePointer)
}

// Bucket names are global, so they carry the account too.
func (n Names) Bucket(what, account string) string {
	return n.Prefix() + "-" + what + "-" + account
}

// AlertsTopic receives every alarm, budget and reaper notice of the stage.
func (n Names) AlertsTopic() string { return n.Resource("ops-alerts") }

// ScaleToZeroTopic receives the fleets' queue-empty alarms (blocker 8).
func (n Names) ScaleToZeroTopic() string { return n.Resource("scale-to-zero") }

// Alarm names an alarm "<app>-<stage>-<what>".
func (n Names) Alarm(what string) string { return n.Resource(what) }

// FleetAsg is a GPU fleet's Auto Scaling group.
func (n Names) FleetAsg(slug string) string { return n.Resource(slug) }

// FleetLaunchTemplate is a GPU fleet's launch template.
func (n Names) FleetLaunchTemplate(slug string) string { return n.Resource(slug) }

// Function names a stage-scoped Lambda function.
func (n Names) Function(what string) string { return n.Resource(what) }

// Dashboard is the stage's CloudWatch dashboard.
func (n Names) Dashboard() string { return n.Prefix() }

// Budget is the stage's monthly cost budget.
func (n Names) Budget() string { return n.Resource("monthly") }
