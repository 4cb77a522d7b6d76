package spotfallback

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/bp/infra/internal/coldstart"
	"github.com/bp/infra/internal/fakeaws"
	"github.com/stretchr/testify/require"
)

// sim plays a fleet at zero receiving one job, second by second, with the
// figures of internal/coldstart: the backend publishes QueueDepth one second
// after each minute, the queue-has-jobs alarm evaluates its metric math on
// the minute (so a datapoint waits a whole minute for it: the model's worst
// case), the step policy sets desired 0 -> 1, and EC2 Auto Scaling launches,
// retrying a failed launch every ASGRetrySeconds. Launches fail while Spot is
// short unless the group's On-Demand base covers them. The real fallback
// handler runs every minute at :30 against the fakes.
type sim struct {
	t         *testing.T
	f         *fixture
	steps     []coldstart.Step
	start     time.Time
	queuedAt  time.Time
	spotShort func(time.Time) bool
	fallback  bool
	before    bool // the model's before column (today's stacks) instead of after

	published   []float64 // QueueDepth per minute since start, as published
	desired     int
	nextAttempt time.Time
	launched    map[string]time.Time // instance -> launch time
	spot        map[string]bool
	leasedAt    time.Time
	doneAt      time.Time
	runs        int
}

func (s *sim) fig(id string) time.Duration {
	st, ok := coldstart.StepByID(s.steps, id)
	require.True(s.t, ok, id)
	if s.before {
		return time.Duration(st.Before.Seconds * float64(time.Second))
	}
	return time.Duration(st.After.Seconds * float64(time.Second))
}

func (s *sim) queueDepth(at time.Time) float64 {
	if at.Before(s.queuedAt) || (!s.doneAt.IsZero() && !at.Before(s.doneAt)) {
		return 0
	}
	return 1
}

func (s *sim) run(until time.Duration) {
	asg := autoscaling.NewFromConfig(fakeaws.Config(s.f.asg.Server.URL))
	for now := s.start; now.Before(s.start.Add(until)); now = now.Add(time.Second) {
		sec := now.Second()
		// Backend: publishes the minute just ended, one second into the next.
		if minuteStart := now.Truncate(time.Minute).Add(-time.Minute); sec == 1 && !minuteStart.Before(s.start) {
			maxDepth := 0.0
			for t := minuteStart; t.Before(minuteStart.Add(time.Minute)); t = t.Add(time.Second) {
				maxDepth = math.Max(maxDepth, s.queueDepth(t))
			}
			s.published = append(s.published, maxDepth)
		}
		// Alarm: on the minute, over the newest published datapoint.
		if sec == 0 && len(s.published) > 0 {
			d := float64(s.desired)
			q := s.published[len(s.published)-1]
			if v, ok := coldstart.QueueHasJobs(&q, &d); ok && v == 1 {
				s.desired = 1
				s.setDesired(asg)
				s.nextAttempt = now.Add(s.fig("policy"))
			}
		}
		// EC2 Auto Scaling: launch while instances are missing.
		if s.desired > len(s.launched) && !s.nextAttempt.IsZero() && !now.Before(s.nextAttempt) {
			s.attempt(now)
		}
		// Instances come up through the chain and lease the job.
		for _, at := range s.launched {
			ready := at.Add(s.fig("launch") + s.fig("boot") + s.fig("sync") + s.fig("comfyui") + s.fig("worker"))
			if s.leasedAt.IsZero() && !now.Before(ready) {
				s.leasedAt = now
				s.doneAt = now.Add(2 * time.Minute) // the job runs two minutes
			}
		}
		if sec == 30 && s.fallback {
			s.handlerRun(now)
		}
	}
}

func (s *sim) setDesired(asg *autoscaling.Client) {
	_, err := asg.SetDesiredCapacity(s.t.Context(), &autoscaling.SetDesiredCapacityInput{
		AutoScalingGroupName: aws.String(asgName), DesiredCapacity: aws.Int32(int32(s.desired)),
	})
	require.NoError(s.t, err)
}

// attempt is one launch: On-Demand when the base is not yet used up, else
// Spot, which fails while Spot is short.
func (s *sim) attempt(now time.Time) {
	g := s.f.group(asgName)
	onDemand := 0
	for id := range s.launched {
		if !s.spot[id] {
			onDemand++
		}
	}
	useOnDemand := onDemand < g.Distribution.OnDemandBaseCapacity
	if !useOnDemand && s.spotShort(now) {
		s.f.asg.AddActivity(asgName, failedLaunch(now, msgMixedNoSpot))
		s.nextAttempt = now.Add(coldstart.ASGRetrySeconds * time.Second)
		return
	}
	id := fmt.Sprintf("i-%08x", len(s.launched)+1)
	s.launched[id] = now
	s.spot[id] = !useOnDemand
	lifecycle := ""
	if !useOnDemand {
		lifecycle = "spot"
	}
	s.f.ec2.Put(fakeaws.EC2Instance{ID: id, ImageID: "ami-0baked", Lifecycle: lifecycle})
	var ins []fakeaws.Instance
	for iid := range s.launched {
		ins = append(ins, fakeaws.Instance{ID: iid, LifecycleState: "InService"})
	}
	s.f.asg.SetInstances(asgName, ins)
	s.f.asg.AddActivity(asgName, launched(now, id))
}

func (s *sim) handlerRun(now time.Time) {
	s.f.now = now
	end := now.Truncate(time.Minute)
	minutes := int(end.Sub(s.start.Truncate(time.Minute)) / time.Minute)
	vals := append([]float64(nil), s.published...)
	if len(vals) > minutes {
		vals = vals[:minutes]
	}
	s.f.queue("gpu-default", vals...)
	require.NoError(s.t, s.f.run())
	s.runs++
}

func newSim(t *testing.T, fallback bool, spotShort func(time.Time) bool) *sim {
	f := newFixture(t, []fakeaws.Group{spotGroup(asgName, "staging", 0)})
	start := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	return &sim{t: t, f: f, steps: coldstart.DefaultParams().Steps(), start: start, queuedAt: start.Add(2 * time.Second),
		spotShort: spotShort, fallback: fallback, launched: map[string]time.Time{}, spot: map[string]bool{}}
}

// TestScenarioColdStartTimes plays the model's scenarios through the alarm
// math and the fallback handler and prints the times before and after; each
// is within the model's figure (the model's timer alignment is the worst).
func TestScenarioColdStartTimes(t *testing.T) {
	p := coldstart.DefaultParams()
	scen := map[string]coldstart.Scenario{}
	for _, sc := range p.Scenarios(defaultFleet().AfterMinutes) {
		scen[sc.Name] = sc
	}
	report := func(name string, s *sim) time.Duration {
		if s.leasedAt.IsZero() {
			t.Logf("%-32s job not leased within the simulated %v", name, 45*time.Minute)
			return -1
		}
		d := s.leasedAt.Sub(s.queuedAt)
		t.Logf("%-32s job leased after %v (%d fallback runs)", name, d, s.runs)
		return d
	}

	today := newSim(t, false, func(time.Time) bool { return false })
	today.before = true
	today.run(45 * time.Minute)
	d := report("Spot available (before)", today)
	require.Positive(t, d)
	require.LessOrEqual(t, d.Seconds(), scen["Empty fleet, Spot available"].Before)

	spotOK := newSim(t, true, func(time.Time) bool { return false })
	spotOK.run(45 * time.Minute)
	d = report("Spot available (after)", spotOK)
	want := scen["Empty fleet, Spot available"].After
	require.Positive(t, d)
	require.LessOrEqual(t, d.Seconds(), want, "simulated cold start beyond the model")
	require.LessOrEqual(t, d.Seconds(), float64(coldstart.TargetSeconds))
	require.Empty(t, spotOK.f.sns.Published(), "no fallback while Spot delivers")
	require.Equal(t, 0, spotOK.f.base(asgName))

	noFallback := newSim(t, false, func(time.Time) bool { return true })
	noFallback.run(45 * time.Minute)
	require.Negative(t, report("No Spot, fallback off (before)", noFallback), "without the fallback the job waits while Spot is short")

	withFallback := newSim(t, true, func(time.Time) bool { return true })
	withFallback.run(45 * time.Minute)
	d = report("No Spot, fallback on (after)", withFallback)
	require.Positive(t, d)
	require.LessOrEqual(t, d.Seconds(), scen["Empty fleet, no Spot capacity"].After, "simulated fallback beyond the model")
	pub := withFallback.f.sns.Published()
	require.Len(t, pub, 1, "one alert for the episode")
	require.LessOrEqual(t, withFallback.f.base(asgName), defaultFleet().MaxInstances, "never above the bound")
	// The job done at leased+2 min, the queue empty for the 15-minute window:
	// the fallback ended within the simulated 45 minutes, exactly once.
	require.True(t, strings.HasPrefix(withFallback.f.tag(asgName), "ended "), withFallback.f.tag(asgName))
	require.Equal(t, 0, withFallback.f.base(asgName))
	ups := withFallback.f.asg.CallsNamed("UpdateAutoScalingGroup")
	require.Len(t, ups, 2, "one raise and one revert: no flapping")
}
