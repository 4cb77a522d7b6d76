package dbinit

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"database/sql"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/bp/infra/internal/testtool"
	"github.com/go-sql-driver/mysql"
)

// The RDS-like master of the test server: not root, every privilege, GRANT OPTION.
const (
	testMasterUser     = "admin"
	testMasterPassword = "Master-Pw_1234567890"
)

const mariadbInstallHint = "apt-get install mariadb-server"

// Debian installs mariadbd in /usr/sbin, which is not on a normal user's PATH.
var mariadbDirs = []string{"/usr/sbin", "/usr/local/sbin"}

// testServer is the one MariaDB of this test binary. The first test that
// needs it starts it; each test then uses its own databases and app user.
type testServer struct {
	Port  int
	Roots *x509.CertPool // the throwaway CA that signed the server certificate
	Admin *sql.DB        // the master over TLS, for the tests' own checks
	stop  func()
}

var (
	serverOnce sync.Once
	server     *testServer
	serverErr  error
	// serverCtx ends a start that is still under way when the tests are done.
	serverCtx, serverCancel = context.WithCancel(context.Background())
)

func TestMain(m *testing.M) {
	// Start the server in the background while the tests that need none (and
	// the Lambda cross-build) run; a test that needs it waits in mariaDB.
	if installDB, daemon, err := mariadbTools(); err == nil {
		go serverOnce.Do(func() { server, serverErr = startMariaDB(serverCtx, installDB, daemon) })
	}
	code := m.Run()
	serverCancel()           // no test waits any more: abandon an unfinished start
	serverOnce.Do(func() {}) // and wait until it has cleaned up
	if server != nil {
		server.stop()
	}
	os.Exit(code)
}

func mariadbTools() (installDB, daemon string, err error) {
	if installDB, err = testtool.Find("mariadb-install-db", mariadbDirs...); err != nil {
		return "", "", err
	}
	daemon, err = testtool.Find("mariadbd", mariadbDirs...)
	return installDB, daemon, err
}

// mariaDB returns the running test server, starting it on first use. Without
// mariadb-server the test is skipped locally and fails under CI=true; a
// server that is installed but does not start is always a failure.
func mariaDB(t *testing.T) *testServer {
	t.Helper()
	installDB := testtool.Require(t, "mariadb-install-db", mariadbInstallHint, mariadbDirs...)
	daemon := testtool.Require(t, "mariadbd", mariadbInstallHint, mariadbDirs...)
	serverOnce.Do(func() { server, serverErr = startMariaDB(serverCtx, installDB, daemon) })
	if serverErr != nil {
		t.Fatalf("MariaDB test server did not start: %v", serverErr)
	}
	return server
}

// startMariaDB initialises a throwaway data directory and runs mariadbd on a
// free loopback port the way the RDS parameter group configures production:
// TLS with a certificate from a test CA and require_secure_transport=ON
// (MariaDB >= 10.5.2). Every connection to it, the tests' own included, must
// therefore use TLS.
func startMariaDB(ctx context.Context, installDB, daemon string) (*testServer, error) {
	dir, err := os.MkdirTemp("", "dbinit-mariadb-")
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*testServer, error) {
		os.RemoveAll(dir)
		return nil, err
	}
	data := filepath.Join(dir, "data")
	// A small redo log: the default 96 MB file is most of the start-up I/O.
	small := []string{"--innodb-log-file-size=8M", "--innodb-buffer-pool-size=32M"}
	install := exec.CommandContext(ctx, installDB, append([]string{"--no-defaults", "--datadir=" + data, "--user=root",
		"--skip-test-db", "--auth-root-authentication-method=normal"}, small...)...)
	if out, err := install.CombinedOutput(); err != nil {
		return fail(fmt.Errorf("mariadb-install-db: %w: %s", err, out))
	}
	pki, err := newTestPKI(dir)
	if err != nil {
		return fail(err)
	}
	initSQL := filepath.Join(dir, "init.sql")
	if err := os.WriteFile(initSQL, []byte(fmt.Sprintf(
		"CREATE USER IF NOT EXISTS '%s'@'%%' IDENTIFIED BY '%s';\nGRANT ALL PRIVILEGES ON *.* TO '%s'@'%%' WITH GRANT OPTION;\n",
		testMasterUser, testMasterPassword, testMasterUser)), 0o600); err != nil {
		return fail(err)
	}
	port, err := freePort()
	if err != nil {
		return fail(err)
	}
	logPath := filepath.Join(dir, "server.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return fail(err)
	}
	cmd := exec.Command(daemon, append([]string{"--no-defaults", "--datadir=" + data,
		"--port=" + strconv.Itoa(port), "--socket=" + filepath.Join(dir, "sock"), "--user=root",
		"--bind-address=127.0.0.1", "--skip-name-resolve",
		"--pid-file=" + filepath.Join(dir, "pid"), "--init-file=" + initSQL,
		"--ssl-ca=" + pki.caFile, "--ssl-cert=" + pki.certFile, "--ssl-key=" + pki.keyFile,
		"--require-secure-transport=ON",
		"--performance-schema=0"}, small...)...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return fail(fmt.Errorf("start mariadbd: %w", err))
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	s := &testServer{Port: port, Roots: pki.roots}
	s.stop = func() {
		if s.Admin != nil {
			s.Admin.Close()
		}
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		logFile.Close()
		os.RemoveAll(dir)
	}
	if err := s.waitReady(ctx, exited); err != nil {
		logs, _ := os.ReadFile(logPath)
		s.stop()
		return nil, fmt.Errorf("mariadbd not ready: %w\n%s", err, logs)
	}
	s.Admin = s.open(testMasterUser, testMasterPassword, true)
	return s, nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func (s *testServer) waitReady(ctx context.Context, exited <-chan struct{}) error {
	deadline := time.Now().Add(60 * time.Second)
	var lastErr error
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return fmt.Errorf("mariadbd exited")
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		db := s.open(testMasterUser, testMasterPassword, true)
		lastErr = db.Ping()
		db.Close()
		if lastErr == nil {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("timeout: %v", lastErr)
}

// open returns a pool of connections to the test server. With useTLS the
// certificate is verified against the test CA and the name 127.0.0.1, as
// DB-init verifies RDS; without it the client never asks for TLS.
func (s *testServer) open(user, password string, useTLS bool) *sql.DB {
	cfg := mysql.NewConfig()
	cfg.User, cfg.Passwd, cfg.Net = user, password, "tcp"
	cfg.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(s.Port))
	cfg.Timeout = 5 * time.Second
	cfg.InterpolateParams = true // lets IDENTIFIED BY take a ? like DB-init's statements
	if useTLS {
		cfg.TLS = &tls.Config{RootCAs: s.Roots, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}
	}
	c, err := mysql.NewConnector(cfg)
	if err != nil {
		panic(err) // only a malformed static config gets here
	}
	return sql.OpenDB(c)
}
