package cli_test

import (
	"crypto/tls"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bp/infra/internal/testtool"
	"github.com/bp/infra/worker/internal/config"
	"github.com/bp/infra/worker/internal/fakes"
)

// TestJobNetworkBytes sizes the NAT line of the usage-cost model
// (tools/cost/profiles: worker_api_bytes_per_job and
// worker_api_bytes_per_instance_hour). The workers reach the backend through
// its public ALB, so every byte of their API calls crosses NAT. The test runs
// the built worker binary at its production defaults against the fake backend
// served over TLS 1.3 with an ALB-like certificate chain and the ALB's 60 s
// idle timeout, and counts the bytes on the wire both ways (TCP payload
// exactly: HTTP headers, bodies, TLS records and handshakes; IP and TCP
// headers estimated, see netmeter_test.go):
//   - idle: bytes of one idle poll on the kept-alive connection x the polls
//     an hour measured at the production poll interval, + one handshake an
//     hour (the ALB's keepalive duration);
//   - a job: from the poll that leases it to the poll after its complete. A
//     short job gives the fixed part (lease with the workflow, complete); a
//     job just over one heartbeat interval gives, by difference, what one
//     heartbeat costs, i.e. the part per minute at the production heartbeat
//     interval.
//
// The job's input image and output ride presigned S3 URLs (the fake's plain
// HTTP server here): on the GPU subnets they take the free S3 gateway
// endpoint, not NAT, and so does the model bundle. They are not counted.
//
// The profiles' numbers must come from this measurement: the test fails
// when a profile is more than 1.5x off (a regression in payload, poll or
// heartbeat frequency moves the measurement away from the profile).
func TestJobNetworkBytes(t *testing.T) {
	// A measurement at production intervals takes about 70 s of wall time,
	// longer than the rest of `go test ./...`: CI runs it (and fails on a
	// drift), a developer runs it with make netbytes.
	if testing.Short() || !testtool.InCI() && os.Getenv("MEASURE_NETBYTES") != "1" {
		t.Skip("skipped: measures the worker's bytes through a whole production heartbeat interval (about 70 s); runs under CI=true or MEASURE_NETBYTES=1 (make netbytes)")
	}
	t.Parallel()
	defaults := workerDefaults(t)
	t.Logf("worker production defaults: poll %v, heartbeat %v; ALB idle timeout %v, keepalive duration %v",
		defaults.PollInterval, defaults.HeartbeatInterval, albIdleTimeout, albKeepaliveDuration)
	if defaults.HeartbeatInterval > 2*time.Minute {
		t.Fatalf("heartbeat interval %v: the job-with-a-heartbeat leg would take over two minutes", defaults.HeartbeatInterval)
	}

	const idleIntervals = 5
	var (
		idle         idleMeasure
		short, long  jobMeasure
		handshake    wireBytes
		start, stop  wireBytes
		tlsState     tls.ConnectionState
		shortS3      int64
		payloadBytes int
		chain        []int
	)
	t.Run("legs", func(t *testing.T) {
		t.Run("idle-then-short-job", func(t *testing.T) {
			t.Parallel()
			s := newStack(t)
			mb := newMeteredBackend(t, s)
			handshake = mb.probeHandshake(t)
			base := mb.meter.snapshot()
			p := startMeteredWorker(t, s, mb)
			within(t, time.Duration(idleIntervals+4)*defaults.PollInterval+15*time.Second, "idle polls", func() bool {
				return mb.polls() >= idleIntervals+2
			})
			arrivals, _ := mb.log()
			idle = measureIdle(t, arrivals, idleIntervals)
			start = firstPoll(t, arrivals).Wire.minus(base)

			var id int
			id, payloadBytes, shortS3 = addMeteredJob(t, s, 2*time.Second)
			job := waitJobAndNextPoll(t, s, mb, id, 30*time.Second)
			short = job
			before := mb.meter.snapshot()
			if code := p.terminate(t); code != 0 {
				t.Fatalf("exit code %d after SIGTERM", code)
			}
			select {
			case <-mb.meter.closed: // the worker's connection, closed as it exited
			case <-time.After(10 * time.Second):
				t.Fatal("the worker's connection was not closed after it exited")
			}
			stop = mb.meter.snapshot().minus(before)
			mb.mu.Lock()
			if len(mb.tlsSeen) > 1 {
				tlsState = mb.tlsSeen[1] // [0] is the probe
			}
			chain = mb.chainSizes
			mb.mu.Unlock()
			checkLedger(t, s)
		})
		t.Run("job-with-a-heartbeat", func(t *testing.T) {
			t.Parallel()
			s := newStack(t)
			mb := newMeteredBackend(t, s)
			p := startMeteredWorker(t, s, mb)
			within(t, 15*time.Second, "the first poll", func() bool { return mb.polls() >= 1 })
			// Just over one heartbeat interval: exactly one heartbeat.
			var id int
			id, _, _ = addMeteredJob(t, s, defaults.HeartbeatInterval+2*time.Second)
			long = waitJobAndNextPoll(t, s, mb, id, defaults.HeartbeatInterval+40*time.Second)
			if code := p.terminate(t); code != 0 {
				t.Fatalf("exit code %d after SIGTERM", code)
			}
			checkLedger(t, s)
		})
	})
	if t.Failed() {
		return
	}

	// What was measured.
	t.Logf("TLS: version %s, key exchange %s, server chain of %d certificates (DER bytes %v); handshake (a connection without a request): %s",
		tls.VersionName(tlsState.Version), tlsState.CurveID, len(chain), chain, fmtWire(handshake))
	if tlsState.Version != tls.VersionTLS13 {
		t.Fatalf("the worker negotiated %s, want TLS 1.3 as with the ALB's policy", tls.VersionName(tlsState.Version))
	}
	t.Logf("instance start (handshake, register, first poll request): %s; stop (deregister, close): %s", fmtWire(start), fmtWire(stop))
	t.Logf("idle: %d polls in %v = %.1f polls/min; one idle poll %s on a kept-alive connection",
		idle.Polls, idle.Span.Round(time.Millisecond), idle.PerMinute(), fmtWire(idle.PerPoll))
	if idle.PerMinute() > 20 {
		t.Errorf("idle worker polls %.1f times a minute: its documented limit is 20 backend calls a minute", idle.PerMinute())
	}
	idleHour := idle.PerHour(handshake)
	t.Logf("idle per instance-hour: %.0f polls x %d B + %d handshake(s) x %d B = %d B (%.2f MiB)",
		idle.PerMinute()*60, idle.PerPoll.Total(), int(time.Hour/albKeepaliveDuration), handshake.Total(), idleHour, float64(idleHour)/(1<<20))

	for _, j := range []struct {
		name string
		m    jobMeasure
	}{{"short job", short}, {"job with a heartbeat", long}} {
		t.Logf("%s: %v from lease to complete, %d heartbeat(s), %d new connection(s): %s", j.name, j.m.Duration.Round(time.Millisecond), j.m.Heartbeats, j.m.Wire.Conns, fmtWire(j.m.Wire))
	}
	if short.Heartbeats != 0 || long.Heartbeats != 1 {
		t.Fatalf("heartbeats: short job %d (want 0), long job %d (want 1 at the %v interval)", short.Heartbeats, long.Heartbeats, defaults.HeartbeatInterval)
	}
	if short.Wire.Out < int64(payloadBytes) {
		t.Fatalf("the lease carried %d bytes to the worker, less than the %d-byte input_payload", short.Wire.Out, payloadBytes)
	}
	fixed := short.Wire.Total()
	perBeat := long.Wire.Total() - fixed
	perMinute := float64(perBeat) * float64(time.Minute) / float64(defaults.HeartbeatInterval)
	t.Logf("per job: fixed %d B (lease reply with the %d-byte input_payload, complete) + %.0f B per minute (one heartbeat every %v: %d B, %d new TLS connection(s) each, the ALB closed the connection after %v of quiet)",
		fixed, payloadBytes, perMinute, defaults.HeartbeatInterval, perBeat, long.Wire.Conns-short.Wire.Conns, albIdleTimeout)
	if perBeat <= 0 {
		t.Fatalf("a heartbeat cost %d bytes", perBeat)
	}

	// The S3 side of the same jobs, for scale: it does not cross NAT.
	t.Logf("presigned S3 bytes of the short job (input image + output, via the S3 gateway endpoint, not NAT): %d B = %.0fx its backend bytes; the backend's share of the job's network bytes: %.2f%%",
		shortS3, float64(shortS3)/float64(fixed), 100*float64(fixed)/float64(fixed+shortS3))

	// The committed profiles must carry this measurement.
	for _, name := range []string{"staging", "production"} {
		pr := readCostProfile(t, name)
		minutes := pr.value(t, "gpu_minutes_per_job")
		wantJob := float64(fixed) + perMinute*minutes
		gotJob := pr.value(t, "worker_api_bytes_per_job")
		gotHour := pr.value(t, "worker_api_bytes_per_instance_hour")
		s3Job := pr.value(t, "worker_s3_bytes_per_job")
		t.Logf("profile %s: %.2f min/job -> measured %.0f B/job (profile %.0f, x%.2f), %d B/instance-hour (profile %.0f, x%.2f); its presigned S3 bytes per job (%.0f B) are %.0fx the backend bytes and ride the S3 gateway endpoint",
			name, minutes, wantJob, gotJob, gotJob/wantJob, idleHour, gotHour, gotHour/float64(idleHour), s3Job, s3Job/wantJob)
		for field, pair := range map[string][2]float64{
			"worker_api_bytes_per_job":           {gotJob, wantJob},
			"worker_api_bytes_per_instance_hour": {gotHour, float64(idleHour)},
		} {
			if pr.placeholder(field) || !strings.Contains(pr.source(field), "TestJobNetworkBytes") {
				t.Errorf("profile %s: %s is still a placeholder or does not cite TestJobNetworkBytes: set it to the measured %.0f", name, field, pair[1])
			}
			if ratio := pair[0] / pair[1]; ratio > 1.5 || ratio < 1/1.5 {
				t.Errorf("profile %s: %s = %.0f but the worker measures %.0f (x%.2f): the worker's traffic changed or the profile is stale; update tools/cost/profiles/%s.json from this test's log",
					name, field, pair[0], pair[1], ratio, name)
			}
		}
	}
}

// workerDefaults reads the production defaults from the worker's own flags.
func workerDefaults(t testing.TB) config.Config {
	t.Helper()
	var c config.Config
	fs := flag.NewFlagSet("worker", flag.ContinueOnError)
	c.AddFlags(fs)
	if err := fs.Parse(nil); err != nil {
		t.Fatal(err)
	}
	return c
}

// addMeteredJob queues the backend-format job whose prompt runs for runTime,
// with its input image and output on presigned URLs, and returns its id, the
// size of its input_payload and the bytes its presigned URLs move.
func addMeteredJob(t testing.TB, s *stack, runTime time.Duration) (id, payloadBytes int, s3Bytes int64) {
	t.Helper()
	const inputImage, outputImage = 768 << 10, 1536 << 10 // a 1024x1024 PNG in, one out
	asset := s.backend.AddAsset("input.png", make([]byte, inputImage))
	output := presign(t, "PUT", jobKey+"output.png") // signed here: OutputURL runs in the fake's handler
	s.backend.OutputURL = func(id int) string { return output.standIn(s.backend.URL() + "/upload/" + strconv.Itoa(id)) }
	s.comfy.Plan = func(json.RawMessage) fakes.PromptPlan {
		return fakes.PromptPlan{RunTime: runTime, OutputSize: outputImage}
	}
	payload, n := jobPayload(t, asset)
	return s.backend.AddJob(payload), n, inputImage + outputImage
}

// jobMeasure is what one job moved between the worker and the backend.
type jobMeasure struct {
	Wire       wireBytes
	Duration   time.Duration // lease to complete
	Heartbeats int
}

// waitJobAndNextPoll waits until job id is completed and the worker polled
// again, and measures from the leasing poll's arrival to that next poll's:
// the lease reply, every heartbeat, the complete, and any handshake between
// them. (Both ends are poll arrivals, so the poll request's own bytes cancel.)
func waitJobAndNextPoll(t testing.TB, s *stack, mb *meteredBackend, id int, d time.Duration) jobMeasure {
	t.Helper()
	var m jobMeasure
	within(t, d, "the job completed and the next poll", func() bool {
		if s.backend.Job(id).State != fakes.Completed {
			return false
		}
		arrivals, leases := mb.log()
		if len(leases) != 1 {
			return false
		}
		for i := leases[0] + 1; i < len(arrivals); i++ {
			switch arrivals[i].Verb {
			case "heartbeat":
				m.Heartbeats++
			case "complete":
				m.Duration = arrivals[i].At.Sub(arrivals[leases[0]].At)
			case "poll":
				if m.Duration > 0 {
					m.Wire = arrivals[i].Wire.minus(arrivals[leases[0]].Wire)
					return true
				}
			}
		}
		m = jobMeasure{}
		return false
	})
	if j := s.backend.Job(id); j.Leases != 1 || j.Completions != 1 {
		t.Fatalf("job %d: leases %d completions %d", id, j.Leases, j.Completions)
	}
	return m
}

// idleMeasure is the idle polling between two poll arrivals on one connection.
type idleMeasure struct {
	Polls   int
	Span    time.Duration
	PerPoll wireBytes
}

func (m idleMeasure) PerMinute() float64 { return float64(m.Polls) / m.Span.Minutes() }

// PerHour is the idle bytes of an instance-hour: the polls at the measured
// rate plus the reconnects the ALB's keepalive duration forces.
func (m idleMeasure) PerHour(handshake wireBytes) int64 {
	polls := m.PerMinute() * 60
	return int64(polls*float64(m.PerPoll.Total())) + int64(time.Hour/albKeepaliveDuration)*handshake.Total()
}

// measureIdle takes n poll-to-poll intervals after the first poll (which
// follows register on a fresh connection).
func measureIdle(t testing.TB, arrivals []arrival, n int) idleMeasure {
	t.Helper()
	var polls []arrival
	for _, a := range arrivals {
		if a.Verb != "poll" && len(polls) > 0 {
			t.Fatalf("idle worker called %q between polls", a.Verb)
		}
		if a.Verb == "poll" {
			polls = append(polls, a)
		}
	}
	if len(polls) < n+2 {
		t.Fatalf("%d polls, want %d", len(polls), n+2)
	}
	first, last := polls[1], polls[1+n]
	w := last.Wire.minus(first.Wire)
	if w.Conns != 0 {
		t.Fatalf("idle polls opened %d new connections: the worker should keep one alive", w.Conns)
	}
	return idleMeasure{Polls: n, Span: last.At.Sub(first.At),
		PerPoll: wireBytes{In: w.In / int64(n), Out: w.Out / int64(n), Headers: w.Headers / int64(n)}}
}

func firstPoll(t testing.TB, arrivals []arrival) arrival {
	t.Helper()
	for _, a := range arrivals {
		if a.Verb == "poll" {
			return a
		}
	}
	t.Fatal("no poll")
	return arrival{}
}

func fmtWire(w wireBytes) string {
	return fmt.Sprintf("%d B on the wire (payload %d up + %d down, IP/TCP headers ~%d)", w.Total(), w.In, w.Out, w.Headers)
}

// costProfile is a usage profile of tools/cost (read as JSON: the worker
// does not import the cost tool).
type costProfile map[string]json.RawMessage

func readCostProfile(t testing.TB, name string) costProfile {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "..", "tools", "cost", "profiles", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var p costProfile
	if err := json.Unmarshal(raw, &p); err != nil {
		t.Fatalf("profile %s: %v", name, err)
	}
	return p
}

type profileField struct {
	Value       *float64 `json:"value"`
	Source      string   `json:"source"`
	Placeholder bool     `json:"placeholder"`
}

func (p costProfile) field(name string) profileField {
	var f profileField
	_ = json.Unmarshal(p[name], &f)
	return f
}

func (p costProfile) value(t testing.TB, name string) float64 {
	t.Helper()
	f := p.field(name)
	if f.Value == nil {
		t.Fatalf("profile field %s has no value", name)
	}
	return *f.Value
}

func (p costProfile) placeholder(name string) bool { return p.field(name).Placeholder }
func (p costProfile) source(name string) string    { return p.field(name).Source }
