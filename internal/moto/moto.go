// Package moto runs moto_server (the maintained AWS emulator) as a child
// process on a free loopback port, for tests that exercise real SDK clients,
// and hands out the standard SDK endpoint variables that point at it. A
// missing moto_server skips the test locally and fails it when CI=true.
package moto

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/bp/infra/internal/testtool"
)

// Region every client of the fake uses.
const Region = "us-east-1"

// Server is one running moto_server.
type Server struct {
	URL string
}

// Start runs moto_server until the test ends. extraEnv (e.g.
// MOTO_ACCOUNT_ID=...) goes to the server's environment.
func Start(t testing.TB, extraEnv ...string) *Server {
	t.Helper()
	bin := testtool.Require(t, "moto_server", "pip install 'moto[server]==5.2.1'")
	s, stop, err := Launch(bin, extraEnv...)
	if err != nil {
		t.Fatalf("start moto_server: %v", err)
	}
	t.Cleanup(stop)
	return s
}

// Launch runs moto_server (bin, found with testtool) on a free loopback port
// until stop is called: for a server shared by a whole test binary, started
// from its first test and stopped in TestMain.
func Launch(bin string, extraEnv ...string) (s *Server, stop func(), err error) {
	for attempt := 0; attempt < 3; attempt++ { // a port taken between probe and bind
		if s, stop, err = launch(bin, extraEnv); err == nil {
			return s, stop, nil
		}
	}
	return nil, nil, err
}

func launch(bin string, extraEnv []string) (*Server, func(), error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, nil, err
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cmd := exec.Command(bin, "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	cmd.Env = append(os.Environ(), extraEnv...)
	if err := cmd.Start(); err != nil {
		return nil, nil, err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stop := func() {
		_ = cmd.Process.Kill()
		<-exited
	}
	s := &Server{URL: fmt.Sprintf("http://127.0.0.1:%d", port)}
	deadline := time.Now().Add(60 * time.Second)
	for {
		select {
		case err := <-exited:
			exited <- err
			return nil, nil, fmt.Errorf("moto_server exited at start: %v", err)
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
		time.Sleep(100 * time.Millisecond)
	}
}

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

// Config is an SDK config for seeding the fake from the test itself; give
// each client BaseEndpoint = s.URL (S3 also UsePathStyle).
func (s *Server) Config() aws.Config {
	return aws.Config{
		Region:      Region,
		Credentials: credentials.NewStaticCredentialsProvider("testing", "testing", ""),
	}
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
	return s3.NewFromConfig(s.Config(), func(o *s3.Options) { o.BaseEndpoint, o.UsePathStyle = aws.String(s.URL), true })
}

// SSM is a client of the fake.
func (s *Server) SSM() *ssm.Client {
	return ssm.NewFromConfig(s.Config(), func(o *ssm.Options) { o.BaseEndpoint = aws.String(s.URL) })
}
