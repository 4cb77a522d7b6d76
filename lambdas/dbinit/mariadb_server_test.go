package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"database/sql"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
)

// The one MariaDB server of this test binary, started in TestMain.
const (
	testMasterUser     = "admin"
	testMasterPassword = "Master-Pw_1234567890"
)

var (
	testDBPort     int
	testDBSkip     string // why the server is not available
	testServerLogs string
)

func TestMain(m *testing.M) {
	stop, err := startMariaDB()
	if err != nil {
		testDBSkip = err.Error()
	}
	code := m.Run()
	if stop != nil {
		stop()
	}
	os.Exit(code)
}

// requireMariaDB skips without a server, except in CI where that is a failure.
func requireMariaDB(t *testing.T) {
	t.Helper()
	if testDBSkip == "" {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("MariaDB test server unavailable in CI: %s", testDBSkip)
	}
	t.Skipf("MariaDB test server unavailable (apt-get install mariadb-server): %s", testDBSkip)
}

// startMariaDB initialises a throwaway data directory and runs mariadbd on a
// free loopback port with TLS, plus an RDS-like master user with GRANT OPTION.
func startMariaDB() (func(), error) {
	for _, bin := range []string{"mariadbd", "mariadb-install-db"} {
		if _, err := exec.LookPath(bin); err != nil {
			if _, err2 := os.Stat("/usr/sbin/" + bin); err2 != nil {
				return nil, fmt.Errorf("%s not installed", bin)
			}
		}
	}
	dir, err := os.MkdirTemp("", "dbinit-mariadb-")
	if err != nil {
		return nil, err
	}
	cleanupDir := func() { os.RemoveAll(dir) }
	data := filepath.Join(dir, "data")
	testServerLogs = filepath.Join(dir, "server.log")

	install := exec.Command(binPath("mariadb-install-db"), "--no-defaults", "--datadir="+data, "--user=root",
		"--skip-test-db", "--auth-root-authentication-method=normal")
	if out, err := install.CombinedOutput(); err != nil {
		cleanupDir()
		return nil, fmt.Errorf("mariadb-install-db: %w: %s", err, out)
	}
	certFile, keyFile, err := writeSelfSignedCert(dir)
	if err != nil {
		cleanupDir()
		return nil, err
	}
	// The test server's certificate stands in for the RDS CAs.
	certPEM, err := os.ReadFile(certFile)
	if err != nil {
		cleanupDir()
		return nil, err
	}
	trustedRoots = mustPool(certPEM)
	initSQL := filepath.Join(dir, "init.sql")
	// Mimic RDS: a non-root master with every privilege and GRANT OPTION.
	if err := os.WriteFile(initSQL, []byte(fmt.Sprintf(
		"CREATE USER IF NOT EXISTS '%s'@'%%' IDENTIFIED BY '%s';\nGRANT ALL PRIVILEGES ON *.* TO '%s'@'%%' WITH GRANT OPTION;\n",
		testMasterUser, testMasterPassword, testMasterUser)), 0o600); err != nil {
		cleanupDir()
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		cleanupDir()
		return nil, err
	}
	logFile, err := os.Create(testServerLogs)
	if err != nil {
		cleanupDir()
		return nil, err
	}
	cmd := exec.Command(binPath("mariadbd"), "--no-defaults", "--datadir="+data,
		"--port="+strconv.Itoa(port), "--socket="+filepath.Join(dir, "sock"), "--user=root",
		"--skip-grant-tables=0", "--bind-address=127.0.0.1", "--skip-name-resolve",
		"--pid-file="+filepath.Join(dir, "pid"), "--init-file="+initSQL,
		"--ssl-cert="+certFile, "--ssl-key="+keyFile,
		"--innodb-buffer-pool-size=32M", "--performance-schema=0")
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		cleanupDir()
		return nil, fmt.Errorf("start mariadbd: %w", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	stop := func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		logFile.Close()
		cleanupDir()
	}
	testDBPort = port
	if err := waitReady(exited); err != nil {
		testDBPort = 0
		logs, _ := os.ReadFile(testServerLogs)
		stop()
		return nil, fmt.Errorf("mariadbd not ready: %w\n%s", err, logs)
	}
	return stop, nil
}

func binPath(name string) string {
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	return "/usr/sbin/" + name
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func waitReady(exited <-chan struct{}) error {
	deadline := time.Now().Add(60 * time.Second)
	var lastErr error
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return fmt.Errorf("mariadbd exited")
		default:
		}
		db, err := openAs(testMasterUser, testMasterPassword, "")
		if err == nil {
			lastErr = db.Ping()
			db.Close()
			if lastErr == nil {
				return nil
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	return fmt.Errorf("timeout: %v", lastErr)
}

// openAs opens a plain connection to the test server for assertions.
func openAs(user, password, database string) (*sql.DB, error) {
	cfg := mysql.NewConfig()
	cfg.User, cfg.Passwd, cfg.Net = user, password, "tcp"
	cfg.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(testDBPort))
	if testDBPort == 0 {
		return nil, fmt.Errorf("no server")
	}
	cfg.DBName = database
	cfg.Timeout = 5 * time.Second
	c, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, err
	}
	return sql.OpenDB(c), nil
}

func writeSelfSignedCert(dir string) (string, string, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", "", err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return "", "", err
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return "", "", err
	}
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		return "", "", err
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		return "", "", err
	}
	return certFile, keyFile, nil
}
