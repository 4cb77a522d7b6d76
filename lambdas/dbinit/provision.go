package dbinit

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/go-sql-driver/mysql"
)

// provisioner runs the idempotent DDL as the master user. Every identifier it
// puts into SQL text has passed identifierPattern or userPattern, so plain
// backtick / single-quote quoting is safe; the password goes through a
// placeholder.
type provisioner struct {
	db        *sql.DB
	charset   string
	collation string
	log       *slog.Logger
	// canLogin tries a login with the given credentials; nil means the stored
	// password already equals the secret.
	canLogin func(ctx context.Context, user credentials) error
}

// exec runs one statement; what describes it in errors, because the SQL text
// of password statements must never reach an error message.
func (p provisioner) exec(ctx context.Context, what, query string, args ...any) error {
	if _, err := p.db.ExecContext(ctx, query, args...); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// ensureDatabase creates name, or fixes its default charset/collation.
func (p provisioner) ensureDatabase(ctx context.Context, name string) error {
	var charset, collation string
	err := p.db.QueryRowContext(ctx,
		"SELECT DEFAULT_CHARACTER_SET_NAME, DEFAULT_COLLATION_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?",
		name).Scan(&charset, &collation)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		p.log.Info("creating database", "database", name)
		return p.exec(ctx, "create database "+name, fmt.Sprintf(
			"CREATE DATABASE IF NOT EXISTS `%s` CHARACTER SET %s COLLATE %s", name, p.charset, p.collation))
	case err != nil:
		return fmt.Errorf("read charset of database %s: %w", name, err)
	case charset == p.charset && collation == p.collation:
		return nil
	default:
		p.log.Info("fixing database charset", "database", name, "from", charset+"/"+collation, "to", p.charset+"/"+p.collation)
		return p.exec(ctx, "alter database "+name, fmt.Sprintf(
			"ALTER DATABASE `%s` CHARACTER SET %s COLLATE %s", name, p.charset, p.collation))
	}
}

// ensureUser creates the user REQUIRE SSL and keeps its password equal to
// the secret. An existing user is never dropped (that would lose its grants
// and break live sessions): one that still allows plain text gets ALTER USER
// ... REQUIRE SSL. Both ALTERs run only when needed, because a rerun must
// change nothing (ALTER USER ... IDENTIFIED BY stamps password_last_changed).
func (p provisioner) ensureUser(ctx context.Context, user credentials) error {
	account := fmt.Sprintf("'%s'@'%%'", user.Username)
	if err := p.exec(ctx, "create user "+account,
		"CREATE USER IF NOT EXISTS "+account+" IDENTIFIED BY ? REQUIRE SSL", user.Password); err != nil {
		return err
	}
	if err := p.requireTLS(ctx, user.Username, account); err != nil {
		return err
	}
	err := p.canLogin(ctx, user)
	if err == nil {
		return nil
	}
	p.log.Info("app user cannot log in with the secret's password; updating it", "user", user.Username, "loginError", err.Error())
	return p.exec(ctx, "set password of "+account, "ALTER USER "+account+" IDENTIFIED BY ?", user.Password)
}

// requireTLS makes an existing account refuse plain-text connections.
// mysql.user.ssl_type is empty for REQUIRE NONE and ANY for REQUIRE SSL;
// X509 and SPECIFIED are stricter than SSL and are left alone.
func (p provisioner) requireTLS(ctx context.Context, username, account string) error {
	var sslType string
	if err := p.db.QueryRowContext(ctx,
		"SELECT ssl_type FROM mysql.user WHERE User = ? AND Host = '%'", username).Scan(&sslType); err != nil {
		return fmt.Errorf("read TLS requirement of %s: %w", account, err)
	}
	if sslType != "" {
		return nil
	}
	p.log.Info("app user allowed plain-text connections; now requiring TLS", "user", username)
	return p.exec(ctx, "require TLS for "+account, "ALTER USER "+account+" REQUIRE SSL")
}

// grantTarget is the database of a GRANT or REVOKE. In a grant's database
// name "_" and "%" are wildcards: tenant_pool_1 would also match tenantXpoolY1,
// so both are escaped to mean themselves.
func grantTarget(name string) string {
	escaped := strings.NewReplacer("_", `\_`, "%", `\%`).Replace(name)
	return "`" + escaped + "`.*"
}

// grant gives the user every privilege on database name and nothing else.
func (p provisioner) grant(ctx context.Context, username, name string) error {
	account := fmt.Sprintf("'%s'@'%%'", username)
	return p.exec(ctx, fmt.Sprintf("grant %s on %s", account, name),
		fmt.Sprintf("GRANT ALL PRIVILEGES ON %s TO %s", grantTarget(name), account))
}

// revoke removes the user's privileges on name; the data stays. A grant that
// is already gone is fine (a retried Update).
func (p provisioner) revoke(ctx context.Context, username, name string) error {
	account := fmt.Sprintf("'%s'@'%%'", username)
	err := p.exec(ctx, fmt.Sprintf("revoke %s on %s", account, name),
		fmt.Sprintf("REVOKE ALL PRIVILEGES ON %s FROM %s", grantTarget(name), account))
	var me *mysql.MySQLError
	if errors.As(err, &me) && me.Number == 1141 { // ER_NONEXISTING_GRANT
		p.log.Info("no grant to revoke", "database", name, "user", username)
		return nil
	}
	return err
}
