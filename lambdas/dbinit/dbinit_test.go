package dbinit

import (
	"crypto/x509"
	"encoding/pem"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bp/infra/internal/rdsca"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCreateMakesDatabasesAndUserAndRerunChangesNothing(t *testing.T) {
	h := newDBHarness(t, "app_idem")
	dropDatabases(t, "idem_bp", "idem_pool_1", "idem_pool_2")
	props := h.props("idem_bp", "idem_pool_1", "idem_pool_2")

	body := h.run("Create", "", props, nil)
	h.requireSuccess(body)
	assert.Equal(t, "dbinit-127.0.0.1", body["PhysicalResourceId"])
	assert.Equal(t, map[string]any{"Databases": "idem_bp,idem_pool_1,idem_pool_2", "Username": "app_idem"}, body["Data"])

	want := schemaInfo{Charset: "utf8mb4", Collation: "utf8mb4_unicode_ci"}
	assert.Equal(t, map[string]schemaInfo{"idem_bp": want, "idem_pool_1": want, "idem_pool_2": want}, schemas(t, "idem_"))
	grants := showGrants(t, "app_idem")
	for _, db := range []string{"idem_bp", "idem_pool_1", "idem_pool_2"} {
		// "_" is escaped so the grant names exactly this database, not a pattern.
		assert.Contains(t, grants, "GRANT ALL PRIVILEGES ON `"+strings.ReplaceAll(db, "_", `\_`)+"`.* TO `app_idem`@`%`")
	}
	assert.Len(t, grants, 4, "USAGE plus exactly the three databases: %v", grants)

	// Backdate password_last_changed: any ALTER USER ... IDENTIFIED BY during
	// the rerun would stamp the current time and show up in userRow.
	backdatePasswordChange(t, "app_idem")
	schemasBefore, grantsBefore, userBefore := schemas(t, ""), grants, userRow(t, "app_idem")

	again := h.run("Update", body["PhysicalResourceId"].(string), props, props)
	h.requireSuccess(again)
	assert.Equal(t, body["PhysicalResourceId"], again["PhysicalResourceId"], "stable id: no replacement")
	assert.Equal(t, schemasBefore, schemas(t, ""))
	assert.ElementsMatch(t, grantsBefore, showGrants(t, "app_idem"), "same grants (FLUSH PRIVILEGES may reorder SHOW GRANTS)")
	assert.Equal(t, userBefore, userRow(t, "app_idem"), "account definition (password hash and timestamps) unchanged")
}

func TestAppUserCanUseItsDatabasesButNotOthers(t *testing.T) {
	h := newDBHarness(t, "app_scope")
	dropDatabases(t, "scope_bp", "scope_pool", "other_db", "sneaky_db", "scopeXpool")
	h.requireSuccess(h.run("Create", "", h.props("scope_bp", "scope_pool"), nil))

	adm := admin(t)
	for _, stmt := range []string{
		"CREATE DATABASE IF NOT EXISTS other_db",
		"CREATE TABLE IF NOT EXISTS other_db.secrets (v VARCHAR(20))",
		"INSERT INTO other_db.secrets VALUES ('do-not-read')",
	} {
		_, err := adm.Exec(stmt)
		require.NoError(t, err, stmt)
	}

	app := h.asApp(h.appPassword)
	for _, stmt := range []string{
		"CREATE TABLE scope_bp.jobs (id INT PRIMARY KEY, note VARCHAR(10))",
		"INSERT INTO scope_bp.jobs VALUES (1, 'é✓')",
		"CREATE TABLE scope_pool.t (id INT)",
	} {
		_, err := app.Exec(stmt)
		require.NoError(t, err, stmt)
	}
	var note string
	require.NoError(t, app.QueryRow("SELECT note FROM scope_bp.jobs WHERE id = 1").Scan(&note))
	assert.Equal(t, "é✓", note)

	var v string
	requireAccessDenied(t, app.QueryRow("SELECT v FROM other_db.secrets").Scan(&v))
	_, err := app.Exec("CREATE DATABASE sneaky_db")
	requireAccessDenied(t, err)
	// "_" in a grant is a wildcard unless escaped: scope_pool must not cover scopeXpool.
	_, err = app.Exec("CREATE DATABASE scopeXpool")
	requireAccessDenied(t, err)
}

func TestExistingDatabaseWithOtherCharsetIsFixed(t *testing.T) {
	h := newDBHarness(t, "app_charset")
	dropDatabases(t, "charset_legacy")
	_, err := admin(t).Exec("CREATE DATABASE charset_legacy CHARACTER SET latin1 COLLATE latin1_swedish_ci")
	require.NoError(t, err)

	h.requireSuccess(h.run("Create", "", h.props("charset_legacy"), nil))
	assert.Equal(t, map[string]schemaInfo{"charset_legacy": {"utf8mb4", "utf8mb4_unicode_ci"}}, schemas(t, "charset_"))
}

func TestRotatedAppPasswordIsApplied(t *testing.T) {
	h := newDBHarness(t, "app_rotate")
	dropDatabases(t, "rotate_bp")
	props := h.props("rotate_bp")
	first := h.run("Create", "", props, nil)
	h.requireSuccess(first)
	oldPassword := h.appPassword

	h.appPassword = "rotated-" + strconv.FormatInt(time.Now().UnixNano(), 10)
	h.secrets.Put(appSecretArn, secretJSON(t, map[string]any{"username": "app_rotate", "password": h.appPassword}))
	h.requireSuccess(h.run("Update", first["PhysicalResourceId"].(string), props, props))

	require.NoError(t, h.asApp(h.appPassword).Ping())
	requireAccessDenied(t, h.asApp(oldPassword).Ping())
}

func TestUpdateRemovingDatabaseRevokesAccessButKeepsData(t *testing.T) {
	h := newDBHarness(t, "app_revoke")
	dropDatabases(t, "revoke_keep", "revoke_gone")
	oldProps := h.props("revoke_keep", "revoke_gone")
	first := h.run("Create", "", oldProps, nil)
	h.requireSuccess(first)

	app := h.asApp(h.appPassword)
	_, err := app.Exec("CREATE TABLE revoke_gone.t (id INT)")
	require.NoError(t, err)
	_, err = app.Exec("INSERT INTO revoke_gone.t VALUES (42)")
	require.NoError(t, err)

	newProps := h.props("revoke_keep")
	body := h.run("Update", first["PhysicalResourceId"].(string), newProps, oldProps)
	h.requireSuccess(body)
	assert.Equal(t, "revoke_keep", body["Data"].(map[string]any)["Databases"])

	var n int
	require.NoError(t, admin(t).QueryRow("SELECT id FROM revoke_gone.t").Scan(&n), "data must survive")
	assert.Equal(t, 42, n)
	fresh := h.asApp(h.appPassword)
	requireAccessDenied(t, fresh.QueryRow("SELECT id FROM revoke_gone.t").Scan(&n))
	_, err = fresh.Exec("CREATE TABLE revoke_keep.t (id INT)")
	require.NoError(t, err)
	assert.Equal(t, []string{"GRANT USAGE ON *.* TO `app_revoke`@`%` IDENTIFIED BY PASSWORD", "GRANT ALL PRIVILEGES ON `revoke\\_keep`.* TO `app_revoke`@`%`"},
		trimPasswords(showGrants(t, "app_revoke")))

	// CloudFormation may resend the same Update; the missing grant is fine.
	h.requireSuccess(h.run("Update", first["PhysicalResourceId"].(string), newProps, oldProps))
}

func TestDeleteIsANoOp(t *testing.T) {
	h := newDBHarness(t, "app_delete")
	dropDatabases(t, "delete_bp")
	props := h.props("delete_bp")
	first := h.run("Create", "", props, nil)
	h.requireSuccess(first)
	grants := showGrants(t, "app_delete")

	body := h.run("Delete", first["PhysicalResourceId"].(string), props, nil)
	h.requireSuccess(body)
	assert.Equal(t, "dbinit-127.0.0.1", body["PhysicalResourceId"])
	assert.Contains(t, schemas(t, "delete_"), "delete_bp")
	assert.Equal(t, grants, showGrants(t, "app_delete"))
}

func TestDeleteAfterFailedCreateSucceedsWithoutDatabase(t *testing.T) {
	h := newHarness(t, "app_nodb")
	props := h.props("x")
	props["Port"] = "1" // nothing listens; Delete must not even try
	body := h.run("Delete", "dbinit-127.0.0.1", props, nil)
	h.requireSuccess(body)
}

func TestBadMasterCredentialsFailWithServerError(t *testing.T) {
	h := newDBHarness(t, "app_badmaster")
	wrong := "Wrong-Master-Pw-987"
	h.secrets.Put(masterSecretArn, secretJSON(t, map[string]any{"username": testMasterUser, "password": wrong}))

	start := time.Now()
	body := h.run("Create", "", h.props("badmaster_bp"), nil)
	assert.Equal(t, "FAILED", body["Status"])
	reason := body["Reason"].(string)
	assert.Contains(t, reason, "Error 1045")
	assert.Contains(t, reason, "Access denied for user 'admin'")
	assert.NotContains(t, reason, wrong)
	assert.NotContains(t, reason, testMasterPassword)
	assert.Less(t, time.Since(start), 2*time.Second, "an auth error is not retried")
	assert.Equal(t, "dbinit-127.0.0.1", body["PhysicalResourceId"])
	assert.Empty(t, schemas(t, "badmaster_"))
}

func TestUnreachableHostFailsWithNetworkError(t *testing.T) {
	h := newHarness(t, "app_unreach")
	port, err := freePort() // listened once, now closed
	require.NoError(t, err)
	props := h.props("unreach_bp")
	props["Port"] = strconv.Itoa(port)

	body := h.run("Create", "", props, nil)
	assert.Equal(t, "FAILED", body["Status"])
	reason := body["Reason"].(string)
	assert.Contains(t, reason, "connection refused")
	assert.Contains(t, reason, "attempt 3", "network errors are retried")
	assert.NotContains(t, reason, testMasterPassword)
}

func TestInvalidNamesAreRejectedBeforeAnySQL(t *testing.T) {
	h := newHarness(t, "app_invalid")
	for _, bad := range []string{"bp`; DROP DATABASE mysql; --", "has-dash", "", strings.Repeat("a", 65)} {
		props := h.props("ok_db", bad)
		props["Port"] = "1" // would fail differently if a connection were tried
		body := h.run("Create", "", props, nil)
		assert.Equal(t, "FAILED", body["Status"])
		assert.Contains(t, body["Reason"], "invalid database name", bad)
	}
	assert.Empty(t, h.secrets.Reads(), "validation happens before reading secrets")

	bad := newHarness(t, "app'; DROP USER admin; --")
	body := bad.run("Create", "", bad.props("ok_db"), nil)
	assert.Equal(t, "FAILED", body["Status"])
	assert.Contains(t, body["Reason"], "invalid user name")
}

func TestMissingSecretFails(t *testing.T) {
	h := newHarness(t, "app_nosecret")
	props := h.props("nosecret_bp")
	props["AppSecretArn"] = "arn:aws:secretsmanager:us-east-1:123456789012:secret:missing"
	body := h.run("Create", "", props, nil)
	assert.Equal(t, "FAILED", body["Status"])
	assert.Contains(t, body["Reason"], "ResourceNotFoundException")
}

// trimPasswords cuts the hash from "IDENTIFIED BY PASSWORD '*...'" lines.
func trimPasswords(grants []string) []string {
	out := make([]string, len(grants))
	for i, g := range grants {
		if idx := strings.Index(g, " '*"); idx > 0 {
			g = g[:idx]
		}
		out[i] = g
	}
	return out
}

// TestRDSCABundleCoversTheStageRegion: the embedded bundle holds the RDS CAs
// of us-east-1 (and every other region).
func TestRDSCABundleCoversTheStageRegion(t *testing.T) {
	var subjects []string
	rest := rdsca.Global()
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		require.NoError(t, err)
		subjects = append(subjects, cert.Subject.CommonName)
	}
	assert.Greater(t, len(subjects), 50)
	assert.Contains(t, strings.Join(subjects, "\n"), "Amazon RDS us-east-1 Root CA RSA2048 G1")
}
