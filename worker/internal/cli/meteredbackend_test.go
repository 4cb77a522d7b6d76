package cli_test

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// albIdleTimeout is the backend ALB's connection idle timeout: AWS's default
// (60 s, "Edit attributes for your Application Load Balancer"), which both
// stage presets keep (alb.idleTimeoutSeconds). The ALB closes a client
// connection that sent or received nothing for that long; the fake backend
// does the same, so a heartbeat after a quiet minute pays a new handshake on
// the wire as it would in production.
const albIdleTimeout = 60 * time.Second

// albKeepaliveDuration is the ALB's HTTP client keepalive duration (AWS
// default 3600 s, "Application Load Balancer now supports HTTP client
// keepalive duration", 2024): after it the ALB closes even a busy client
// connection, so an always-polling worker handshakes once an hour.
const albKeepaliveDuration = time.Hour

// laravelReplyHeaders are headers a Laravel API reply carries behind nginx
// and the ALB that Go's server does not write: nginx's Server and
// keep-alive headers, Laravel's Cache-Control for a JSON response and its
// throttle middleware's rate-limit pair (the backend rate-limits at least
// register, system facts 8). An assumption about the backend, stated here so
// its size is visible: about 120 bytes a reply.
var laravelReplyHeaders = map[string]string{
	"Server":                "nginx",
	"Connection":            "keep-alive",
	"Cache-Control":         "no-cache, private",
	"X-Ratelimit-Limit":     "60",
	"X-Ratelimit-Remaining": "59",
}

// arrival is one API request as the metered backend received it, with the
// meter's totals at that moment (everything before it, and the request).
type arrival struct {
	Verb string
	At   time.Time
	Wire wireBytes
}

// meteredBackend serves the fake backend's API over TLS with an ALB-like
// certificate chain and idle timeout, counting every byte on the wire.
type meteredBackend struct {
	URL    string
	CAFile string
	pool   *x509.CertPool
	meter  *meter
	addr   string

	mu       sync.Mutex
	arrivals []arrival
	leases   []int // indexes into arrivals of the polls that handed out a job
	tlsSeen  []tls.ConnectionState
	// chainSizes are the DER sizes of the certificates the server sends.
	chainSizes []int
}

func newMeteredBackend(t testing.TB, s *stack) *meteredBackend {
	t.Helper()
	cert, anchorPEM := albChain(t)
	mb := &meteredBackend{meter: newMeter(), CAFile: filepath.Join(t.TempDir(), "anchor.pem"), pool: x509.NewCertPool()}
	if err := os.WriteFile(mb.CAFile, anchorPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	mb.pool.AppendCertsFromPEM(anchorPEM)
	for _, der := range cert.Certificate {
		mb.chainSizes = append(mb.chainSizes, len(der))
	}
	api := s.backend.Server.Config.Handler
	ts := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mb.mu.Lock()
		mb.arrivals = append(mb.arrivals, arrival{Verb: path.Base(r.URL.Path), At: time.Now(), Wire: mb.meter.snapshot()})
		mb.mu.Unlock()
		for k, v := range laravelReplyHeaders {
			w.Header().Set(k, v)
		}
		api.ServeHTTP(w, r)
	}))
	ts.TLS = &tls.Config{
		Certificates: []tls.Certificate{cert},
		// The listener's policy, ELBSecurityPolicy-TLS13-1-2-2021-06, offers
		// classic key exchange only (the PQ hybrids are in the "-PQ-"
		// policies): the worker's Go client still sends its ML-KEM key share,
		// but the server picks X25519.
		CurvePreferences: []tls.CurveID{tls.X25519, tls.CurveP256, tls.CurveP384},
		VerifyConnection: func(cs tls.ConnectionState) error {
			mb.mu.Lock()
			mb.tlsSeen = append(mb.tlsSeen, cs)
			mb.mu.Unlock()
			return nil
		},
	}
	ts.Config.IdleTimeout = albIdleTimeout
	ts.Config.ErrorLog = log.New(io.Discard, "", 0) // handshakes cut short by the probe
	ts.Listener = mb.meter.listen(ts.Listener)
	ts.StartTLS()
	t.Cleanup(ts.Close)
	mb.URL, mb.addr = ts.URL, ts.Listener.Addr().String()
	s.backend.OnLease = func(int) {
		mb.mu.Lock()
		mb.leases = append(mb.leases, len(mb.arrivals)-1)
		mb.mu.Unlock()
	}
	return mb
}

// probeHandshake opens one TLS connection as the worker's Go client does
// (default settings, no session cache, no SNI for an IP address), completes
// the handshake and closes it: the bytes of a connection that carries no
// request.
func (mb *meteredBackend) probeHandshake(t testing.TB) wireBytes {
	t.Helper()
	c, err := tls.Dial("tcp", mb.addr, &tls.Config{RootCAs: mb.pool})
	if err != nil {
		t.Fatal(err)
	}
	_ = c.Close()
	select {
	case w := <-mb.meter.closed:
		return w
	case <-time.After(10 * time.Second):
		t.Fatal("the probe connection was not closed on the server side")
		return wireBytes{}
	}
}

func (mb *meteredBackend) log() (arrivals []arrival, leases []int) {
	mb.mu.Lock()
	defer mb.mu.Unlock()
	return append([]arrival(nil), mb.arrivals...), append([]int(nil), mb.leases...)
}

func (mb *meteredBackend) polls() int {
	a, _ := mb.log()
	n := 0
	for _, x := range a {
		if x.Verb == "poll" {
			n++
		}
	}
	return n
}

// startMeteredWorker runs the built worker binary at its production defaults
// against the metered backend: the env file's keys as systemd passes them,
// the API base URL pointed at the TLS server and its trust anchor given the
// way Go reads one on Linux (SSL_CERT_FILE). Only the token file is set.
func startMeteredWorker(t testing.TB, s *stack, mb *meteredBackend) *process {
	t.Helper()
	p := &process{cmd: exec.Command(workerBinary(t), "run", "-token-file="+s.tokenFile), logs: &syncBuffer{}, done: make(chan int, 1)}
	// os/exec keeps the last value of a repeated key.
	p.cmd.Env = append(s.childEnv(), "WORKER_API_BASE_URL="+mb.URL, "SSL_CERT_FILE="+mb.CAFile)
	p.cmd.Stdout, p.cmd.Stderr = p.logs, p.logs
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		err := p.cmd.Wait()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			code = -1
		}
		p.done <- code
	}()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		if t.Failed() {
			t.Logf("worker binary logs:\n%s", p.logs.String())
		}
	})
	return p
}
