package dbinit

import (
	"database/sql"
	"errors"
	"strings"
	"testing"

	"github.com/bp/infra/internal/rdsca"
	"github.com/go-sql-driver/mysql"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// What the outside sources say, and what these tests hold the real server to:
//
// MariaDB 10.11 reference, CREATE USER (mariadb.com/kb/en/create-user/):
//
//	CREATE [OR REPLACE] USER [IF NOT EXISTS]
//	 user_specification [,user_specification ...]
//	  [REQUIRE {NONE | tls_option [[AND] tls_option ...] }]
//	tls_option: SSL | X509 | CIPHER 'cipher' | ISSUER 'issuer' | SUBJECT 'subject'
//
// Amazon RDS user guide, "Requiring SSL/TLS for specific user accounts to a
// MariaDB DB instance": ALTER USER 'encrypted_user'@'%' REQUIRE SSL;
//
// MariaDB, --require-secure-transport (added in 10.5.2): "When this option is
// enabled, connections attempted using insecure transport will be rejected.
// Secure transports are SSL/TLS, Unix sockets or named pipes." The RDS guide
// "Requiring SSL/TLS for all connections to a MariaDB DB instance" sets the
// require_secure_transport parameter (dynamic, no reboot) and shows the
// refusal as "ERROR 1045 (28000): Access denied for user 'USER'@'localhost'
// (using password: YES | NO)".

// allowPlainTransport turns require_secure_transport off for one test, so the
// app user's own REQUIRE SSL is what refuses it, as on RDS today where the
// parameter group leaves it off.
func allowPlainTransport(t *testing.T) {
	t.Helper()
	_, err := admin(t).Exec("SET GLOBAL require_secure_transport = OFF")
	require.NoError(t, err)
	t.Cleanup(func() {
		_, err := mariaDB(t).Admin.Exec("SET GLOBAL require_secure_transport = ON")
		require.NoError(t, err)
	})
}

// showCreateUser is the server's own rendering of the account, REQUIRE clause included.
func showCreateUser(t *testing.T, user string) string {
	t.Helper()
	var stmt string
	require.NoError(t, admin(t).QueryRow("SHOW CREATE USER '"+user+"'@'%'").Scan(&stmt))
	return stmt
}

// sslCipher is the session's Ssl_cipher status: empty on a plain connection.
func sslCipher(t *testing.T, db *sql.DB) string {
	t.Helper()
	var name, cipher string
	require.NoError(t, db.QueryRow("SHOW SESSION STATUS LIKE 'Ssl_cipher'").Scan(&name, &cipher))
	return cipher
}

// requireServerError asserts the server refused with exactly this error.
func requireServerError(t *testing.T, err error, number uint16, message string) {
	t.Helper()
	var me *mysql.MySQLError
	require.True(t, errors.As(err, &me), "want MariaDB error %d, got %v", number, err)
	assert.Equal(t, number, me.Number)
	assert.Equal(t, message, me.Message)
}

func TestAppUserIsCreatedRequireSSL(t *testing.T) {
	h := newDBHarness(t, "app_tls_req")
	srv := h.server
	allowPlainTransport(t)
	dropDatabases(t, "tlsreq_bp")
	h.requireSuccess(h.run("Create", "", h.props("tlsreq_bp"), nil))

	assert.Contains(t, showCreateUser(t, "app_tls_req"), " REQUIRE SSL")
	assert.NotContains(t, h.logs.String(), "now requiring TLS",
		"a new user is created REQUIRE SSL, not created open and altered afterwards")

	// Control: the server itself accepts plain text now, so the refusal
	// below comes from the account.
	master := srv.open(testMasterUser, testMasterPassword, false)
	defer master.Close()
	require.NoError(t, master.Ping())
	assert.Empty(t, sslCipher(t, master))

	plain := srv.open("app_tls_req", h.appPassword, false)
	defer plain.Close()
	requireServerError(t, plain.Ping(), 1045, "Access denied for user 'app_tls_req'@'127.0.0.1' (using password: YES)")

	app := h.asApp(h.appPassword) // TLS, certificate checked against the test CA
	assert.NotEmpty(t, sslCipher(t, app))
	_, err := app.Exec("CREATE TABLE tlsreq_bp.t (id INT)")
	require.NoError(t, err)
}

func TestExistingPlainTextAppUserIsAlteredToRequireSSL(t *testing.T) {
	h := newDBHarness(t, "app_tls_up")
	srv := h.server
	allowPlainTransport(t)
	dropDatabases(t, "tlsup_bp", "tlsup_extra")
	adm := admin(t)
	for _, stmt := range []string{
		"CREATE USER 'app_tls_up'@'%' IDENTIFIED BY ?", // as an older DB-init left it: REQUIRE NONE
		"CREATE DATABASE tlsup_extra",
		"GRANT SELECT ON `tlsup\\_extra`.* TO 'app_tls_up'@'%'",
	} {
		var err error
		if strings.Contains(stmt, "?") {
			_, err = adm.Exec(stmt, h.appPassword)
		} else {
			_, err = adm.Exec(stmt)
		}
		require.NoError(t, err, stmt)
	}
	before := srv.open("app_tls_up", h.appPassword, false)
	require.NoError(t, before.Ping(), "REQUIRE NONE accepts plain text")
	before.Close()
	backdatePasswordChange(t, "app_tls_up")

	props := h.props("tlsup_bp")
	first := h.run("Create", "", props, nil)
	h.requireSuccess(first)

	assert.Contains(t, showCreateUser(t, "app_tls_up"), " REQUIRE SSL")
	assert.Contains(t, h.logs.String(), `"msg":"app user allowed plain-text connections; now requiring TLS"`)
	assert.Contains(t, showGrants(t, "app_tls_up"), "GRANT SELECT ON `tlsup\\_extra`.* TO `app_tls_up`@`%`",
		"the user was altered, not dropped and recreated")
	assert.Equal(t, "1", passwordLastChanged(t, "app_tls_up"), "the password was not rewritten")
	plain := srv.open("app_tls_up", h.appPassword, false)
	defer plain.Close()
	requireServerError(t, plain.Ping(), 1045, "Access denied for user 'app_tls_up'@'127.0.0.1' (using password: YES)")
	require.NoError(t, h.asApp(h.appPassword).Ping())

	userBefore := userRow(t, "app_tls_up")
	h.requireSuccess(h.run("Update", first["PhysicalResourceId"].(string), props, props))
	assert.Equal(t, userBefore, userRow(t, "app_tls_up"), "a rerun leaves the account as it is")
}

// TestRequireSecureTransportRefusesPlainTextForEveryone is the server as the
// RDS parameter group will run it: plain text is refused even for the
// master, and DB-init still succeeds because it always uses TLS.
func TestRequireSecureTransportRefusesPlainTextForEveryone(t *testing.T) {
	h := newDBHarness(t, "app_rst")
	srv := h.server
	var on int
	require.NoError(t, admin(t).QueryRow("SELECT @@GLOBAL.require_secure_transport").Scan(&on))
	require.Equal(t, 1, on, "the test server runs with --require-secure-transport=ON")

	plain := srv.open(testMasterUser, testMasterPassword, false)
	defer plain.Close()
	requireServerError(t, plain.Ping(), 1045, "Access denied for user 'admin'@'127.0.0.1' (using password: YES)")
	secure := srv.open(testMasterUser, testMasterPassword, true)
	defer secure.Close()
	require.NoError(t, secure.Ping())
	assert.NotEmpty(t, sslCipher(t, secure))

	dropDatabases(t, "rst_bp")
	h.requireSuccess(h.run("Create", "", h.props("rst_bp"), nil))
	appPlain := srv.open("app_rst", h.appPassword, false)
	defer appPlain.Close()
	requireServerError(t, appPlain.Ping(), 1045, "Access denied for user 'app_rst'@'127.0.0.1' (using password: YES)")
	require.NoError(t, h.asApp(h.appPassword).Ping())
}

func TestDBInitConnectsWithVerifiedTLS(t *testing.T) {
	srv := mariaDB(t)
	ep := endpoint{Host: "127.0.0.1", Port: srv.Port, Roots: srv.Roots}
	db, err := connect(t.Context(), ep, credentials{Username: testMasterUser, Password: testMasterPassword}, defaultConnectPolicy, testLogger())
	require.NoError(t, err)
	defer db.Close()
	assert.NotEmpty(t, sslCipher(t, db))
	var name, version string
	require.NoError(t, db.QueryRow("SHOW SESSION STATUS LIKE 'Ssl_version'").Scan(&name, &version))
	assert.Contains(t, []string{"TLSv1.2", "TLSv1.3"}, version)
}

// TestTLSRefusesAnUntrustedServer: the production roots (the embedded RDS
// CAs) do not cover the test CA, and the certificate must name the host
// dialled, so DB-init never sends the master password to an impostor.
func TestTLSRefusesAnUntrustedServer(t *testing.T) {
	srv := mariaDB(t)
	policy := defaultConnectPolicy
	master := credentials{Username: testMasterUser, Password: testMasterPassword}

	_, err := connect(t.Context(), endpoint{Host: "127.0.0.1", Port: srv.Port, Roots: rdsRoots()}, master, policy, testLogger())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "attempt 1: tls: failed to verify certificate: x509: certificate signed by unknown authority")
	assert.NotContains(t, err.Error(), "attempt 2", "a certificate that does not verify is not retried")
	policy.Attempts = 1

	_, err = connect(t.Context(), endpoint{Host: "localhost", Port: srv.Port, Roots: srv.Roots}, master, policy, testLogger())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "x509: certificate is not valid for any names, but wanted to match localhost")

	_, err = connect(t.Context(), endpoint{Host: "127.0.0.1", Port: srv.Port}, master, policy, testLogger())
	assert.ErrorContains(t, err, "no certificate authorities", "no roots must not mean the system trust store")
}

func TestProductionHandlerTrustsTheEmbeddedRDSBundle(t *testing.T) {
	h := newHandler(nil, testLogger())
	assert.True(t, h.roots.Equal(mustPool(rdsca.Global())), "production verifies against rds-ca-bundle.pem")
}

// TestTlsFalseIsRefusedBeforeAnyConnection: plain text is no longer a
// property away; the request fails on validation.
func TestTlsFalseIsRefusedBeforeAnyConnection(t *testing.T) {
	h := newHarness(t, "app_notls")
	props := h.props("notls_bp")
	props["Tls"] = "false"
	body := h.run("Create", "", props, nil)
	assert.Equal(t, "FAILED", body["Status"])
	assert.Contains(t, body["Reason"], `property Tls: "false" is not supported`)
	assert.Empty(t, h.secrets.Reads())
}
