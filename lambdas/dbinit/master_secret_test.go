package dbinit

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRDSManagedMasterSecretAndItsRotation: with ManageMasterUserPassword, RDS
// creates the master secret itself and it holds only {"username", "password"}
// (no host, port or engine, unlike the CDK-generated secret), and RDS rotates
// the password in place. DB-init takes the endpoint from its properties and
// reads the secret on every request, so a run after a rotation, in the same
// warm Lambda process, logs in with the new password.
func TestRDSManagedMasterSecretAndItsRotation(t *testing.T) {
	h := newDBHarness(t, "app_managed")
	adm := admin(t)
	// A second RDS-like master, so the shared one keeps its password.
	const managedMaster = "rds_managed_master"
	oldPassword, newPassword := "Managed-Pw-Before-Rotation_1", "Managed-Pw-After-Rotation_2"
	for _, stmt := range []string{
		"DROP USER IF EXISTS '" + managedMaster + "'@'%'",
		"CREATE USER '" + managedMaster + "'@'%' IDENTIFIED BY '" + oldPassword + "'",
		"GRANT ALL PRIVILEGES ON *.* TO '" + managedMaster + "'@'%' WITH GRANT OPTION",
	} {
		_, err := adm.Exec(stmt)
		require.NoError(t, err, stmt)
	}
	t.Cleanup(func() { _, _ = adm.Exec("DROP USER IF EXISTS '" + managedMaster + "'@'%'") })
	managedSecret := func(password string) string {
		return `{"username":"` + managedMaster + `","password":"` + password + `"}`
	}
	dropDatabases(t, "managed_bp")
	props := h.props("managed_bp")

	h.secrets.Put(masterSecretArn, managedSecret(oldPassword))
	first := h.run("Create", "", props, nil)
	h.requireSuccess(first)
	id := first["PhysicalResourceId"].(string)

	// What RDS does on rotation: a new password on the server, then in the secret.
	_, err := adm.Exec("ALTER USER '" + managedMaster + "'@'%' IDENTIFIED BY '" + newPassword + "'")
	require.NoError(t, err)
	h.secrets.Put(masterSecretArn, managedSecret(newPassword))
	h.requireSuccess(h.run("Update", id, props, props))
	require.NoError(t, h.asApp(h.appPassword).Ping(), "app user untouched by the master's rotation")

	// A stale secret fails with the server's answer, not a retry loop, and
	// neither password reaches the CloudFormation event.
	h.secrets.Put(masterSecretArn, managedSecret(oldPassword))
	body := h.run("Update", id, props, props)
	assert.Equal(t, "FAILED", body["Status"])
	reason := body["Reason"].(string)
	assert.Contains(t, reason, "Error 1045 (28000): Access denied for user '"+managedMaster+"'@'127.0.0.1' (using password: YES)")
	assert.Contains(t, reason, "attempt 1")
	assert.NotContains(t, reason, "attempt 2")
	assert.NotContains(t, reason, oldPassword)
	assert.NotContains(t, reason, newPassword)
}
