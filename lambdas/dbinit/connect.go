package dbinit

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"time"

	"github.com/bp/infra/internal/rdsca"
	"github.com/go-sql-driver/mysql"
)

// connectPolicy bounds how long dbinit waits for a database that may only just
// have become available.
type connectPolicy struct {
	DialTimeout time.Duration
	Attempts    int
	Backoff     time.Duration // doubled after each failed try, capped at 10s
}

var defaultConnectPolicy = connectPolicy{DialTimeout: 10 * time.Second, Attempts: 5, Backoff: 2 * time.Second}

// rdsRoots are the CAs the database certificate must chain to in production:
// every Amazon RDS CA (internal/rdsca), which no Lambda trust store holds.
func rdsRoots() *x509.CertPool { return mustPool(rdsca.Global()) }

func mustPool(pemBytes []byte) *x509.CertPool {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pemBytes) {
		panic("the RDS CA bundle holds no certificate")
	}
	return pool
}

// endpoint is the database dbinit talks to. Every connection uses TLS and
// verifies the server certificate against roots (the RDS CAs in production).
type endpoint struct {
	Host  string
	Port  int
	Roots *x509.CertPool
}

func (e endpoint) addr() string { return net.JoinHostPort(e.Host, strconv.Itoa(e.Port)) }

// mysqlConfig builds the driver configuration.
//
// TLS is not optional: the app user is created REQUIRE SSL and RDS runs with
// require_secure_transport, so a plain connection would be refused anyway.
// TLS 1.2+ with the certificate checked against the CAs and the endpoint's
// host name means the master password is sent only to the real database.
// tls=preferred was rejected because it silently falls back to plain text.
func mysqlConfig(e endpoint, user credentials, policy connectPolicy, log *slog.Logger) *mysql.Config {
	cfg := mysql.NewConfig()
	cfg.User = user.Username
	cfg.Passwd = user.Password
	cfg.Net = "tcp"
	cfg.Addr = e.addr()
	cfg.Timeout = policy.DialTimeout
	cfg.ReadTimeout = 30 * time.Second
	cfg.WriteTimeout = 30 * time.Second
	// Client-side interpolation lets IDENTIFIED BY take a ? placeholder; the
	// driver escapes the value for the connection's charset.
	cfg.InterpolateParams = true
	cfg.Logger = driverLogger{log}
	cfg.TLS = &tls.Config{RootCAs: e.Roots, ServerName: e.Host, MinVersion: tls.VersionTLS12}
	return cfg
}

// connect opens one connection, retrying network errors, and returns the pool
// limited to that single connection.
func connect(ctx context.Context, e endpoint, user credentials, policy connectPolicy, log *slog.Logger) (*sql.DB, error) {
	if e.Roots == nil {
		return nil, errors.New("no certificate authorities to verify the database with")
	}
	connector, err := mysql.NewConnector(mysqlConfig(e, user, policy, log))
	if err != nil {
		return nil, fmt.Errorf("configure MariaDB driver: %w", err)
	}
	db := sql.OpenDB(connector)
	db.SetMaxOpenConns(1)

	wait := policy.Backoff
	var errs []error
	for attempt := 1; attempt <= max(policy.Attempts, 1); attempt++ {
		err = db.PingContext(ctx)
		if err == nil {
			return db, nil
		}
		errs = append(errs, fmt.Errorf("attempt %d: %w", attempt, err))
		if !retryable(err) || attempt >= policy.Attempts || ctx.Err() != nil {
			break
		}
		log.Warn("MariaDB not reachable yet; retrying", "addr", e.addr(), "attempt", attempt, "error", err.Error())
		select {
		case <-ctx.Done():
		case <-time.After(wait):
		}
		wait = min(wait*2, 10*time.Second)
	}
	db.Close()
	return nil, fmt.Errorf("connect to MariaDB at %s as %s: %w", e.addr(), user.Username, errors.Join(errs...))
}

// retryable is true for errors that can go away while RDS finishes starting:
// network errors and "too many connections". Errors the server answered with
// (bad password, unknown database) and a certificate that does not verify
// fail at once.
func retryable(err error) bool {
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		return me.Number == 1040 // ER_CON_COUNT_ERROR
	}
	var badCert *tls.CertificateVerificationError
	if errors.As(err, &badCert) {
		return false
	}
	return !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded)
}

// driverLogger routes the driver's own messages into the JSON log.
type driverLogger struct{ log *slog.Logger }

func (l driverLogger) Print(v ...any) { l.log.Warn("mysql driver", "message", fmt.Sprint(v...)) }
