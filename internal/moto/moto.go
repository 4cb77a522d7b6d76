// Package moto runs moto_server (the maintained AWS emulator) as a child
// process on a free loopback port, for tests that exercise real SDK clients,
// and hands out the standard SDK endpoint variables that point at it. A
// missing moto_server skips the test locally and fails it when CI=true.
package moto

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/bp/infra/internal/fakeaws"
	"github.com/bp/infra/internal/testtool"
)

// Region every client of the fake uses.
const Region = "us-east-1"

// Server is one running moto_server.
type Server struct {
	URL string
}

// install is how to get moto_server, for the notice of a test that needs it.
const install = "pip install 'moto[server]==5.2.1'"

// Start runs moto_server until the test ends. extraEnv (e.g.
// MOTO_ACCOUNT_ID=...) goes to the server's environment.
func Start(t testing.TB, extraEnv ...string) *Server {
	t.Helper()
	bin := testtool.Require(t, "moto_server", install)
	s, stop, err := launch(bin, extraEnv...)
	if err != nil {
		t.Fatalf("start moto_server: %v", err)
	}
	t.Cleanup(stop)
	return s
}

// Shared is one moto_server for a whole test binary (a start costs a second
// and more of CPU), started by the first Get, or early by Prestart, and
// stopped by Stop in TestMain. Env goes to the server's environment
// (MOTO_ACCOUNT_ID=...); Warm, if set, runs once it answers. Tests sharing
// it keep to their own resources or reset it.
type Shared struct {
	Env  []string
	Warm func(*Server)
	once sync.Once
	s    *Server
	stop func()
	err  error
}

func (sh *Shared) launch() {
	sh.once.Do(func() {
		bin, err := testtool.Find("moto_server")
		if err != nil {
			sh.err = err
			return
		}
		if sh.s, sh.stop, sh.err = launch(bin, sh.Env...); sh.err == nil && sh.Warm != nil {
			sh.Warm(sh.s)
		}
	})
}

// Prestart starts the server in the background, so its start overlaps
// other work.
func (sh *Shared) Prestart() { go sh.launch() }

// Get returns the server, started or waited for; a missing moto_server
// skips the test locally and fails it under CI=true.
func (sh *Shared) Get(t testing.TB) *Server {
	t.Helper()
	testtool.Require(t, "moto_server", install)
	sh.launch()
	if sh.err != nil {
		t.Fatalf("start moto_server: %v", sh.err)
	}
	return sh.s
}

// Stop ends the server, waiting for a start in progress; it starts none.
func (sh *Shared) Stop() {
	sh.once.Do(func() {})
	if sh.stop != nil {
		sh.stop()
	}
}

// launch runs moto_server (bin, found with testtool) on a loopback port of
// its own until stop is called (Start and Shared own the stop). moto_server
// binds port 0 and the port is read from its "Running on" line: a port probed
// free and handed over could be taken by another test binary's moto_server
// in between, and then both would talk to that one (seen: one package's
// state in another's SSM).
func launch(bin string, extraEnv ...string) (s *Server, stop func(), err error) {
	cmd := exec.Command(bin, "-H", "127.0.0.1", "-p", "0")
	cmd.Env = append(os.Environ(), extraEnv...)
	// A pipe of our own, not StderrPipe: Wait runs beside the reader.
	stderr, w, err := os.Pipe()
	if err != nil {
		return nil, nil, err
	}
	cmd.Stderr = w
	err = cmd.Start()
	w.Close()
	if err != nil {
		stderr.Close()
		return nil, nil, err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stop = func() {
		_ = cmd.Process.Kill()
		<-exited
	}
	url := make(chan string, 1)
	go func() { // then drain the log, so the server never blocks on a full pipe
		defer stderr.Close()
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if m := runningOn.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case url <- m[1]:
				default:
				}
			}
		}
	}()
	select {
	case u := <-url:
		s = &Server{URL: u}
	case err := <-exited:
		exited <- err
		return nil, nil, fmt.Errorf("moto_server exited at start: %v", err)
	case <-time.After(60 * time.Second):
		stop()
		return nil, nil, errors.New("moto_server printed no \"Running on\" line within 60 s")
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		select {
		case err := <-exited:
			exited <- err
			return nil, nil, fmt.Errorf("moto_server on %s exited at start: %v", s.URL, err)
		default:
		}
		resp, err := http.Get(s.URL + "/moto-api/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s, stop, nil
			}
		}
		if time.Now().After(deadline) {
			stop()
			return nil, nil, fmt.Errorf("moto_server on %s did not answer within 60 s: %v", s.URL, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// runningOn is werkzeug's startup line, " * Running on http://127.0.0.1:PORT".
var runningOn = regexp.MustCompile(`Running on (http://127\.0\.0\.1:[0-9]+)`)

// Env is what a child process needs to reach the fake through the SDK's
// standard variables only: endpoints, static credentials, the region, and
// no instance metadata lookups.
func (s *Server) Env() []string {
	return []string{
		"AWS_ENDPOINT_URL_S3=" + s.URL,
		"AWS_ENDPOINT_URL_SSM=" + s.URL,
		"AWS_ACCESS_KEY_ID=testing",
		"AWS_SECRET_ACCESS_KEY=testing",
		"AWS_REGION=" + Region,
		"AWS_EC2_METADATA_DISABLED=true",
	}
}

// Config is an SDK config for seeding the fake from the test itself: every
// client built from it talks to the fake, one attempt per call
// (fakeaws.Config; S3 also needs UsePathStyle).
func (s *Server) Config() aws.Config {
	cfg := fakeaws.Config(s.URL)
	cfg.Region = Region
	return cfg
}

// Reset drops everything the fake holds.
func (s *Server) Reset(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL+"/moto-api/reset", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("moto reset: %s", resp.Status)
	}
	return nil
}

// S3 is a client of the fake (path-style, as an IP endpoint needs).
func (s *Server) S3() *s3.Client {
	return s3.NewFromConfig(s.Config(), func(o *s3.Options) { o.UsePathStyle = true })
}

// SSM is a client of the fake.
func (s *Server) SSM() *ssm.Client {
	return ssm.NewFromConfig(s.Config())
}
