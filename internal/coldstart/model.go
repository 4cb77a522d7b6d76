// Package coldstart models the time from a job queued on a GPU fleet at zero
// to that job started (leased by the first poll and handed to ComfyUI), step
// by step, before and after the capacity changes of the GpuFleet stack. Each
// step carries its figure and where the figure comes from, in one table that
// docs/scale-from-zero.md is generated from and the scenario tests read.
package coldstart

import (
	"fmt"
	"math"
)

// Kind says where a figure comes from.
type Kind string

const (
	// AWSDoc: stated by AWS documentation (the Source names the page).
	AWSDoc Kind = "AWS documentation"
	// Contract: how the backend behaves (it publishes QueueDepth once a minute).
	Contract Kind = "backend contract"
	// Setting: a value the stacks or the worker set.
	Setting Kind = "setting"
	// Measured: measured in this repository (the Source names the test).
	Measured Kind = "measured here"
	// ThirdParty: a public measurement by others; AWS states none.
	ThirdParty Kind = "third-party measurement"
	// Estimate: no published figure; to be replaced by a measurement on a
	// real instance (docs/scale-from-zero.md says how).
	Estimate Kind = "estimate"
)

// Figure is one duration in seconds with its source.
type Figure struct {
	Seconds float64
	Kind    Kind
	Source  string
}

// Step is one link of the chain from queued job to leased job.
type Step struct {
	ID       string
	Name     string
	Controls string // what sets the step's duration
	Before   Figure
	After    Figure
	Cut      string // what this branch changed, "" when nothing could be
}

// Params are the inputs the volume-dependent steps are computed from.
type Params struct {
	// InitRateMiBps is the root volume's provisioned initialization rate
	// after the change (config rootVolumeInitRateMiBps); 0 models the default.
	InitRateMiBps int
	// SnapshotGiB is the data in the AMI's root snapshot (OS, driver, CUDA,
	// ComfyUI's venv, the baked bundle).
	SnapshotGiB float64
	// StartupReadGiB is what ComfyUI reads from disk to start (Python, torch
	// and the CUDA libraries of the venv).
	StartupReadGiB float64
	// LazyReadMiBps is the effective rate of first reads from a volume that
	// loads its blocks from S3 on demand (EBS's default).
	LazyReadMiBps float64
	// WarmStartSeconds is ComfyUI's start when its files are on the volume.
	WarmStartSeconds float64
}

// DefaultParams are the model's inputs, each an estimate to replace with a
// measurement from the fleet's real AMI (docs/scale-from-zero.md).
func DefaultParams() Params {
	return Params{InitRateMiBps: 300, SnapshotGiB: 25, StartupReadGiB: 6, LazyReadMiBps: 40, WarmStartSeconds: 20}
}

// Seconds of the steps that other figures depend on.
const (
	metricSeconds   = 60 // backend publishes once a minute
	alarmSeconds    = 60 // a 60-s alarm is evaluated once a minute
	policySeconds   = 10
	launchSeconds   = 30
	bootSeconds     = 45
	workerSeconds   = 2
	PollSeconds     = 3  // the worker's -poll-interval default
	ASGRetrySeconds = 60 // EC2 Auto Scaling's next launch attempt after a failed one
)

// QueueHasJobsExpression is the metric math of the fleet's queue-has-jobs
// alarm (stacks/gpufleet/asg.go); test/ checks the template carries it.
const QueueHasJobsExpression = "IF(queue > 0 AND FILL(desired, 0) == 0, 1, 0)"

// QueueHasJobs evaluates QueueHasJobsExpression for one period: queue is the
// QueueDepth datapoint (nil: none yet, which IF treats as no data, so no
// breach), desired the group's GroupDesiredCapacity (nil: FILL makes it 0).
func QueueHasJobs(queue, desired *float64) (value float64, ok bool) {
	if queue == nil {
		return 0, false
	}
	d := 0.0
	if desired != nil {
		d = *desired
	}
	if *queue > 0 && d == 0 {
		return 1, true
	}
	return 0, true
}

// comfyStart is ComfyUI's start: with lazy loading its first reads pay the
// lazy rate; with a provisioned rate the volume is fully loaded
// SnapshotGiB/rate after it was created (at launch) and ComfyUI, started
// after the boot, waits at most for the rest of that.
func (p Params) comfyStart(rateMiBps int) Figure {
	if rateMiBps == 0 {
		s := p.WarmStartSeconds + p.StartupReadGiB*1024/p.LazyReadMiBps
		return Figure{math.Round(s), Estimate, fmt.Sprintf("%.0f s start on a loaded disk + %.0f GiB of venv read at an assumed %.0f MiB/s of first reads: "+
			"EBS says only that a volume created from a snapshot loads its blocks from S3 on first access, at a rate that fluctuates (EBS User Guide, Initialize Amazon EBS volumes)",
			p.WarmStartSeconds, p.StartupReadGiB, p.LazyReadMiBps)}
	}
	loaded := p.SnapshotGiB * 1024 / float64(rateMiBps)
	startsAt := float64(launchSeconds + bootSeconds)
	s := p.WarmStartSeconds + math.Max(0, loaded-startsAt)
	return Figure{math.Round(s), Estimate, fmt.Sprintf("%.0f s start on a loaded disk + the rest of the volume's load: %.0f GiB at %d MiB/s = %.0f s after launch, ComfyUI starts %.0f s after launch "+
		"(EBS User Guide: with a volume initialization rate of 100-300 MiB/s the snapshot blocks are downloaded at that rate, so the volume is fully initialized in a predictable time; sizes are estimates)",
		p.WarmStartSeconds, p.SnapshotGiB, rateMiBps, loaded, startsAt)}
}

// Steps is the chain for a job queued on an empty fleet whose AMI has the
// active bundle baked in, with Spot capacity available; worst-case timer
// alignment (the job arrives just after a publish and an evaluation).
func (p Params) Steps() []Step {
	same := func(f Figure) (Figure, Figure) { return f, f }
	metricB, metricA := same(Figure{metricSeconds, Contract,
		"the backend publishes QueueDepth once a minute at standard resolution; a job queued just after a publish waits a full minute"})
	alarmB, alarmA := same(Figure{alarmSeconds, AWSDoc,
		"a 60-s alarm is evaluated once a minute; periods of 10, 20 or 30 s need metrics stored with StorageResolution 1 (CloudWatch API Reference, PutMetricAlarm: Period), which the backend does not publish"})
	policyB, policyA := same(Figure{policySeconds, Estimate,
		"the alarm's action runs the step policy, which raises desired 0 -> 1; EC2 Auto Scaling states no figure for starting the launch"})
	launchB, launchA := same(Figure{launchSeconds, ThirdParty,
		"pending -> running took 16-17 s for every general-purpose type measured (brevdev/ec2-coldboot-research); EBS encryption slows launches (martysweet.co.uk, EC2 Launch Times, 2023): 30 s for an encrypted GPU instance"})
	bootB, bootA := same(Figure{bootSeconds, ThirdParty,
		"an Ubuntu instance boots in about 40 s (depot.dev, Making EC2 boot time 8x faster, 2024); +5 s for the NVIDIA driver and cloud-init's start of the CloudWatch agent before the units"})
	return []Step{
		{ID: "metric", Name: "Backend publishes QueueDepth", Controls: "the backend (once a minute)", Before: metricB, After: metricA},
		{ID: "alarm", Name: "CloudWatch evaluates queue-has-jobs (" + QueueHasJobsExpression + ")", Controls: "the stacks: Period 60 s, 1 of 1 datapoints (already the floor for 1-minute metrics)", Before: alarmB, After: alarmA,
			Cut: "none possible: a sub-minute alarm needs high-resolution metrics; 1 of 1 datapoints is the least"},
		{ID: "policy", Name: "Step policy sets desired 0 -> 1, EC2 Auto Scaling requests the instance", Controls: "AWS", Before: policyB, After: policyA},
		{ID: "launch", Name: "EC2 fulfils the Spot request (pending -> running)", Controls: "AWS; instance types; EBS encryption", Before: launchB, After: launchA},
		{ID: "boot", Name: "Boot to the units (kernel, systemd, NVIDIA driver, cloud-init user data)", Controls: "the AMI; the user data", Before: bootB, After: bootA},
		{ID: "sync", Name: "Bundle sync, baked bundle (smart skip) alongside ComfyUI's start", Controls: "the AMI's baked bundle; the active bundle pointer",
			Before: Figure{0, Setting, "comfyui.service does not wait for comfyui-bundle-sync.service (packer/units); with the active bundle baked the sync reads one SSM parameter and copies nothing (worker README, smart skip)"},
			After:  Figure{0, Setting, "as before"}},
		{ID: "comfyui", Name: "ComfyUI starts until /system_stats answers (Python, torch, CUDA, custom nodes)", Controls: "the stacks: the root volume's initialization rate; the AMI",
			Before: p.comfyStart(0), After: p.comfyStart(p.InitRateMiBps),
			Cut: fmt.Sprintf("rootVolumeInitRateMiBps=%d on the launch template: the volume loads in the background while the instance boots", p.InitRateMiBps)},
		{ID: "worker", Name: "Worker sees /system_stats (1-s probes), clears ComfyUI's queue, registers, polls: the job is leased", Controls: "the worker",
			Before: Figure{workerSeconds, Measured, "a bound: worker/internal/cli TestBinaryColdStartLeasesSoonAfterComfyUI runs the built worker at production defaults against local fakes and holds it (about 1 s: the 1-s readiness probe, then two local calls and two backend calls)"},
			After:  Figure{workerSeconds, Measured, "as before"}},
	}
}

// Total sums a column.
func Total(steps []Step, after bool) float64 {
	t := 0.0
	for _, s := range steps {
		if after {
			t += s.After.Seconds
		} else {
			t += s.Before.Seconds
		}
	}
	return t
}

// StepByID returns the step with id.
func StepByID(steps []Step, id string) (Step, bool) {
	for _, s := range steps {
		if s.ID == id {
			return s, true
		}
	}
	return Step{}, false
}

// Target is the bound for a job queued on an empty fleet.
const TargetSeconds = 240

// Scenario is one end-to-end case of the model.
type Scenario struct {
	Name          string
	Before, After float64 // seconds; math.Inf(1): the job waits until Spot returns
	How           string
}

// NoSpotWithFallback is the worst-case time from queued to leased when no
// Spot capacity is left and the fleet's onDemandFallback is on: the fallback
// needs afterMinutes of non-empty QueueDepth datapoints and a failed Spot
// launch, acts on its next per-minute run, and the group's next launch
// attempt after that goes On-Demand and runs the rest of the chain.
func (p Params) NoSpotWithFallback(afterMinutes int) float64 {
	steps := p.Steps()
	at := func(id string) float64 { s, _ := StepByID(steps, id); return s.After.Seconds }
	firstFailure := at("metric") + at("alarm") + at("policy")
	decided := math.Max(at("metric")+float64(afterMinutes-1)*60, firstFailure) + 60
	return decided + ASGRetrySeconds + at("launch") + at("boot") + at("sync") + at("comfyui") + at("worker")
}

// Scenarios are the end-to-end totals docs/scale-from-zero.md shows.
func (p Params) Scenarios(afterMinutes int) []Scenario {
	steps := p.Steps()
	before, after := Total(steps, false), Total(steps, true)
	defaults := p
	defaults.InitRateMiBps = 0
	afterDefaults := Total(defaults.Steps(), true)
	return []Scenario{
		{"Empty fleet, Spot available", before, after, fmt.Sprintf("after: rootVolumeInitRateMiBps=%d", p.InitRateMiBps)},
		{"Empty fleet, Spot available, rootVolumeInitRateMiBps=0 (default)", before, afterDefaults, "no cut on the path the stacks control without the paid rate"},
		{"Empty fleet, no Spot capacity", math.Inf(1), p.NoSpotWithFallback(afterMinutes),
			fmt.Sprintf("before: the group retries Spot until capacity returns; after: onDemandFallback (afterMinutes %d), the next per-minute run, the group's next launch attempt (%d s, an estimate)", afterMinutes, ASGRetrySeconds)},
		{"Warm buffer hours, idle warm instance", before, PollSeconds, "warmBuffer: the instance polls every 3 s"},
	}
}
