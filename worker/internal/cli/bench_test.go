package cli_test

import (
	"bufio"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// timeScale shrinks production intervals (3 s poll, 5 s IMDS) 1000x so an
// idle minute takes 60 ms of wall time; counts are scaled back per minute.
const timeScale = 1000

// BenchmarkIdleWorker reports what an idle worker costs: backend calls and
// Auto Scaling calls per (production) minute, and resident memory.
func BenchmarkIdleWorker(b *testing.B) {
	s := newStack(b)
	s.start(b, "-poll-interval=3ms", "-interruption-interval=5ms") // stopped by cleanup
	for s.backend.Calls("poll") < 3 {
		time.Sleep(time.Millisecond)
	}
	startCalls, startASG := s.backend.Calls(""), len(s.asg.Calls())
	start := time.Now()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		want := startCalls + i + 1
		for s.backend.Calls("") < want {
			time.Sleep(200 * time.Microsecond)
		}
	}
	b.StopTimer()
	simMinutes := time.Since(start).Minutes() * timeScale
	calls := s.backend.Calls("") - startCalls
	asgCalls := len(s.asg.Calls()) - startASG
	if s.backend.Calls("poll") != s.backend.Calls("")-s.backend.Calls("register") {
		b.Fatalf("idle worker made backend calls other than polls")
	}
	if asgCalls != 0 {
		b.Fatalf("idle worker made %d Auto Scaling calls", asgCalls)
	}
	b.ReportMetric(float64(calls)/simMinutes, "backend-calls/min")
	b.ReportMetric(float64(asgCalls)/simMinutes, "asg-calls/min")
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(ms.HeapInuse)/(1<<20), "heap-MiB")
	if rss := residentMiB(); rss > 0 {
		b.ReportMetric(rss, "rss-MiB")
	}
}

// residentMiB reads VmRSS of this process (worker and fakes together).
func residentMiB() float64 { return readRSS("/proc/self/status") }

// processRSSMiB reads VmRSS of process pid (0 where /proc is missing).
func processRSSMiB(pid int) float64 { return readRSS("/proc/" + strconv.Itoa(pid) + "/status") }

func readRSS(path string) float64 {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return kb / 1024
		}
	}
	return 0
}

// BenchmarkCompleteToPoll runs b.N back-to-back jobs through a worker at its
// production defaults (poll 3 s, heartbeat 60 s) and reports how long the
// worker stays idle between a job's complete and its next poll.
func BenchmarkCompleteToPoll(b *testing.B) {
	s := newStack(b)
	for range b.N {
		s.backend.AddJob(workflow("job"))
	}
	b.ResetTimer()
	s.startProduction(b) // stopped by cleanup
	var gaps []time.Duration
	deadline := time.Now().Add(time.Duration(b.N)*time.Second + 30*time.Second)
	for {
		var ok bool
		gaps, ok = outcomeToPollGaps(s.backend.Log())
		if ok && len(gaps) == b.N {
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("%d of %d jobs reported with a poll after them; gaps so far %v", len(gaps), b.N, gaps)
		}
		time.Sleep(time.Millisecond)
	}
	b.StopTimer()
	var sum, worst time.Duration
	for _, g := range gaps {
		sum += g
		worst = max(worst, g)
	}
	b.Logf("complete -> next poll over %d jobs: mean %v, max %v", len(gaps), sum/time.Duration(len(gaps)), worst)
	b.ReportMetric(float64(sum.Microseconds())/float64(len(gaps))/1000, "complete-to-poll-ms")
	b.ReportMetric(float64(worst.Microseconds())/1000, "max-complete-to-poll-ms")
	if bad := heartbeatsAfterOutcome(s.backend.Log()); len(bad) > 0 {
		b.Fatalf("heartbeats after an outcome: %v", bad)
	}
}
