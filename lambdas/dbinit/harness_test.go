package dbinit

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/bp/infra/internal/fakeaws"
	"github.com/bp/infra/lambdas/internal/cfnresponse"
	"github.com/stretchr/testify/require"
)

const (
	masterSecretArn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:rds-master-AbCdEf"
	appSecretArn    = "arn:aws:secretsmanager:us-east-1:123456789012:secret:app-user-GhIjKl"
	stackID         = "arn:aws:cloudformation:us-east-1:123456789012:stack/bp-staging-data/1234"
)

// harness drives the handler through the whole custom-resource protocol:
// Secrets Manager fake, the real MariaDB and a fake pre-signed response URL.
type harness struct {
	t           *testing.T
	secrets     *fakeaws.SecretsManager
	url         *fakeaws.ResponseURL
	handler     *handler
	runner      cfnresponse.Runner
	server      *testServer // nil for tests that must fail before any SQL
	logs        *syncBuffer // the handler's JSON log
	port        int
	appUser     string
	appPassword string
	requests    int
}

// newHarness is for tests that end before DB-init connects (validation,
// secrets, Delete, network errors): they need no MariaDB. Its Port is 1,
// where nothing listens, so an unexpected connection attempt fails loudly.
func newHarness(t *testing.T, appUser string) *harness {
	t.Helper()
	h := &harness{t: t, port: 1, appUser: appUser, appPassword: "App'Pw\\\"-" + appUser}
	h.secrets = fakeaws.NewSecretsManager(t, map[string]string{
		// The CDK-generated master secret carries the endpoint too; DB-init
		// must use the endpoint of its properties, so this one is wrong on purpose.
		masterSecretArn: secretJSON(t, map[string]any{"username": testMasterUser, "password": testMasterPassword,
			"engine": "mariadb", "host": "db.example.internal", "port": 3306}),
		appSecretArn: secretJSON(t, map[string]any{"username": appUser, "password": h.appPassword}),
	})
	h.url = fakeaws.NewResponseURL(t)
	h.logs = &syncBuffer{}
	log := slog.New(slog.NewJSONHandler(h.logs, nil))
	h.handler = newHandler(secretsmanager.NewFromConfig(fakeaws.Config(h.secrets.Server.URL)), log)
	h.handler.policy = connectPolicy{DialTimeout: 2 * time.Second, Attempts: 3, Backoff: 50 * time.Millisecond}
	h.runner = cfnresponse.Runner{Handler: h.handler.Handle, Log: log,
		Sender: cfnresponse.Sender{Attempts: 2, Backoff: time.Millisecond}}
	return h
}

// newDBHarness points the handler at the test server and trusts its test CA
// instead of the RDS CAs. The app user is dropped first: one server serves
// the whole binary (and -count=N reruns).
func newDBHarness(t *testing.T, appUser string) *harness {
	t.Helper()
	srv := mariaDB(t)
	h := newHarness(t, appUser)
	h.server, h.port = srv, srv.Port
	h.handler.roots = srv.Roots
	_, err := srv.Admin.Exec("DROP USER IF EXISTS '" + appUser + "'@'%'")
	require.NoError(t, err)
	return h
}

// syncBuffer collects log output; the driver may log from its own goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func secretJSON(t *testing.T, v map[string]any) string {
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}

// props returns ResourceProperties the way CloudFormation sends them: strings.
func (h *harness) props(databases ...string) map[string]any {
	dbs := make([]any, len(databases))
	for i, d := range databases {
		dbs[i] = d
	}
	return map[string]any{
		"ServiceToken":    "arn:aws:lambda:us-east-1:123456789012:function:dbinit",
		"MasterSecretArn": masterSecretArn,
		"AppSecretArn":    appSecretArn,
		"Host":            "127.0.0.1",
		"Port":            strconv.Itoa(h.port),
		"Databases":       dbs,
		"Charset":         "utf8mb4",
		"Collation":       "utf8mb4_unicode_ci",
		"Tls":             "true", // what the stack sends
	}
}

// run sends one request and returns the decoded response body PUT to the URL.
func (h *harness) run(requestType, physicalID string, props, old map[string]any) map[string]any {
	h.t.Helper()
	h.requests++
	req := cfnresponse.Request{
		RequestType: requestType, ResponseURL: h.url.URL(), StackID: stackID,
		RequestID: "req-" + strconv.Itoa(h.requests), ResourceType: "Custom::DbInit",
		LogicalResourceID: "DbInit", PhysicalResourceID: physicalID,
		ResourceProperties: props, OldResourceProperties: old,
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	require.NoError(h.t, h.runner.Handle(ctx, req))
	put := h.url.Last(h.t)
	require.Equal(h.t, "PUT", put.Method)
	body := put.Decode(h.t)
	require.Equal(h.t, req.RequestID, body["RequestId"])
	require.Equal(h.t, stackID, body["StackId"])
	require.Equal(h.t, "DbInit", body["LogicalResourceId"])
	require.Equal(h.t, false, body["NoEcho"])
	return body
}

func (h *harness) requireSuccess(body map[string]any) {
	h.t.Helper()
	require.Equal(h.t, "SUCCESS", body["Status"], "reason: %v", body["Reason"])
}

// admin is the master connection of the test server, for assertions.
func admin(t *testing.T) *sql.DB {
	t.Helper()
	return mariaDB(t).Admin
}

// dropDatabases removes databases a previous run of the same test left.
func dropDatabases(t *testing.T, names ...string) {
	t.Helper()
	for _, n := range names {
		_, err := admin(t).Exec("DROP DATABASE IF EXISTS `" + n + "`")
		require.NoError(t, err)
	}
}

type schemaInfo struct{ Charset, Collation string }

func schemas(t *testing.T, prefix string) map[string]schemaInfo {
	t.Helper()
	rows, err := admin(t).Query(
		"SELECT SCHEMA_NAME, DEFAULT_CHARACTER_SET_NAME, DEFAULT_COLLATION_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE ?",
		prefix+"%")
	require.NoError(t, err)
	defer rows.Close()
	out := map[string]schemaInfo{}
	for rows.Next() {
		var name string
		var s schemaInfo
		require.NoError(t, rows.Scan(&name, &s.Charset, &s.Collation))
		out[name] = s
	}
	require.NoError(t, rows.Err())
	return out
}

func showGrants(t *testing.T, user string) []string {
	t.Helper()
	rows, err := admin(t).Query("SHOW GRANTS FOR '" + user + "'@'%'")
	require.NoError(t, err)
	defer rows.Close()
	var out []string
	for rows.Next() {
		var g string
		require.NoError(t, rows.Scan(&g))
		out = append(out, g)
	}
	require.NoError(t, rows.Err())
	return out
}

// userRow is the account's stored definition (password hash included), to
// prove a rerun does not rewrite it.
func userRow(t *testing.T, user string) string {
	t.Helper()
	var priv string
	require.NoError(t, admin(t).QueryRow(
		"SELECT Priv FROM mysql.global_priv WHERE User = ? AND Host = '%'", user).Scan(&priv))
	return priv
}

// backdatePasswordChange sets the account's password_last_changed to 1970,
// so any ALTER USER ... IDENTIFIED BY afterwards shows as a changed userRow
// without the test having to wait for the clock's next second.
func backdatePasswordChange(t *testing.T, user string) {
	t.Helper()
	_, err := admin(t).Exec("UPDATE mysql.global_priv SET Priv = JSON_SET(Priv, '$.password_last_changed', 1) WHERE User = ? AND Host = '%'", user)
	require.NoError(t, err)
	_, err = admin(t).Exec("FLUSH PRIVILEGES")
	require.NoError(t, err)
}

// passwordLastChanged reads the account's password_last_changed (epoch seconds).
func passwordLastChanged(t *testing.T, user string) string {
	t.Helper()
	var v string
	require.NoError(t, admin(t).QueryRow(
		"SELECT JSON_VALUE(Priv, '$.password_last_changed') FROM mysql.global_priv WHERE User = ? AND Host = '%'", user).Scan(&v))
	return v
}

// asApp opens a TLS connection as the app user.
func (h *harness) asApp(password string) *sql.DB {
	h.t.Helper()
	db := h.server.open(h.appUser, password, true)
	db.SetMaxOpenConns(1)
	h.t.Cleanup(func() { db.Close() })
	return db
}

func requireAccessDenied(t *testing.T, err error) {
	t.Helper()
	require.Error(t, err)
	require.True(t, strings.Contains(err.Error(), "denied"), "want access denied, got %v", err)
}
