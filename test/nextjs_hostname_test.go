package test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bp/infra/internal/testtool"
)

// standaloneServer is what `next build` with output: 'standalone' writes as
// server.js, reduced to how it picks its address (vercel/next.js,
// packages/next/src/build/utils.ts, writeStandaloneDirectory):
//
//	const currentPort = parseInt(process.env.PORT, 10) || 3000
//	const hostname = process.env.HOSTNAME || '0.0.0.0'
//
// and startServer listens on exactly that hostname and port.
const standaloneServer = `
const http = require('http')
const currentPort = parseInt(process.env.PORT, 10) || 3000
const hostname = process.env.HOSTNAME || '0.0.0.0'
http.createServer((req, res) => res.end('ok')).listen(currentPort, hostname, () => console.log('listening'))
`

// fargateHostname stands in for the HOSTNAME Fargate gives every container
// (the task's own host name, which resolves to its ENI address): a loopback
// alias, so the test needs no network, and like the ENI address a socket bound
// to it does not accept connections to 127.0.0.1 (vercel/next.js#58657).
const fargateHostname = "127.0.0.2"

// TestNextjsHealthCheckPassesOnFargate starts the standalone server with the
// environment a Fargate task gives the nextjs container (Fargate's HOSTNAME,
// then the task definition's Environment on top, as ECS applies it) and runs
// the container's own health check command from the template against it.
func TestNextjsHealthCheckPassesOnFargate(t *testing.T) {
	node := nodeBinary(t)
	// Builds with the same environment and command get the same verdict:
	// each distinct pair is run once (node starts twice per run).
	verdicts := map[string]error{}
	for _, b := range all() {
		c := container(t, b.templates["compute"], b.stage.Names.Service("frontend"), "nextjs")
		env := map[string]string{}
		for k, v := range envNames(c, "Environment") {
			env[k] = str(v)
		}
		check := healthCheckCommand(t, c)
		t.Run(b.label, func(t *testing.T) {
			key := check + "\x00" + strings.Join(slices.Sorted(slices.Values(flat(env))), "\x00")
			err, done := verdicts[key]
			if !done {
				err = runHealthCheck(t, node, env, check)
				verdicts[key] = err
			}
			if err != nil {
				t.Errorf("the nextjs health check fails on Fargate: %v (HOSTNAME from the task definition: %q)", err, env["HOSTNAME"])
			}
		})
	}
	// The same check without the task definition's HOSTNAME must fail, or
	// this test could not see the bug.
	if err := runHealthCheck(t, node, map[string]string{}, healthCheckCommand(t, container(t, stages["staging"].templates["compute"],
		stages["staging"].stage.Names.Service("frontend"), "nextjs"))); err == nil {
		t.Fatalf("control: a server bound to Fargate's HOSTNAME %s passed a health check on 127.0.0.1; the emulation is broken", fargateHostname)
	}
}

func nodeBinary(t *testing.T) string {
	t.Helper()
	if p, err := filepath.Abs(filepath.Join("..", ".tools", "node_modules", ".bin", "node")); err == nil {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return testtool.Require(t, "node", "make tools (Node 22 into .tools/), or install Node.js")
}

func healthCheckCommand(t *testing.T, c map[string]any) string {
	t.Helper()
	cmd, _ := get(c, "HealthCheck.Command").([]any)
	if len(cmd) != 2 || cmd[0] != "CMD-SHELL" {
		t.Fatalf("nextjs health check is not [CMD-SHELL, cmd]: %v", cmd)
	}
	return str(cmd[1])
}

// runHealthCheck serves standaloneServer with Fargate's HOSTNAME overridden by
// env, then runs check (its port 3000 moved to a free one) as ECS would.
func runHealthCheck(t *testing.T, node string, env map[string]string, check string) error {
	t.Helper()
	port := freePort(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	vars := map[string]string{"HOSTNAME": fargateHostname, "PORT": fmt.Sprint(port)}
	for k, v := range env {
		vars[k] = v
	}
	server := exec.CommandContext(ctx, node, "-e", standaloneServer)
	server.Env = append(os.Environ(), flat(vars)...)
	out, err := server.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	server.Stderr = os.Stderr
	if err := server.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = server.Process.Kill(); _ = server.Wait() }()
	if line, err := bufio.NewReader(out).ReadString('\n'); err != nil || strings.TrimSpace(line) != "listening" {
		t.Fatalf("standalone server did not start: %q %v", line, err)
	}
	if !strings.Contains(check, ":3000/") {
		t.Fatalf("health check %q does not probe port 3000", check)
	}
	probe := exec.CommandContext(ctx, "sh", "-c", strings.Replace(check, ":3000/", fmt.Sprintf(":%d/", port), 1))
	probe.Env = append(os.Environ(), "PATH="+filepath.Dir(node)+string(os.PathListSeparator)+os.Getenv("PATH"))
	if msg, err := probe.CombinedOutput(); err != nil {
		return fmt.Errorf("%v %s", err, msg)
	}
	return nil
}

func flat(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k, v := range m {
		out = append(out, k+"="+v)
	}
	return out
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
