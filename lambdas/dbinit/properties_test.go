package dbinit

import (
	"io"
	"log/slog"
	"testing"

	"github.com/bp/infra/lambdas/internal/cfnresponse"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func testLogger() *slog.Logger { return slog.New(slog.NewJSONHandler(io.Discard, nil)) }

func TestParsePropertiesDefaultsAndErrors(t *testing.T) {
	base := func() cfnresponse.Props {
		return cfnresponse.Props{"MasterSecretArn": "m", "AppSecretArn": "a", "Host": "h", "Databases": []any{"bp", "bp", "pool"}}
	}
	p, err := parseProperties(base())
	require.NoError(t, err)
	assert.Equal(t, properties{MasterSecretArn: "m", AppSecretArn: "a", Host: "h", Port: 3306,
		Databases: []string{"bp", "pool"}, Charset: "utf8mb4", Collation: "utf8mb4_unicode_ci"}, p)

	for _, on := range []string{"true", "TRUE", "1"} {
		props := base()
		props["Tls"] = on
		_, err := parseProperties(props)
		assert.NoError(t, err, "Tls=%s is what the stack sends", on)
	}

	cases := map[string]func(cfnresponse.Props){
		"property Host is required": func(p cfnresponse.Props) { delete(p, "Host") },
		`property Port: "abc"`:      func(p cfnresponse.Props) { p["Port"] = "abc" },
		`property Tls: "maybe"`:     func(p cfnresponse.Props) { p["Tls"] = "maybe" },
		`property Tls: "false" is not supported: DB-init always connects with TLS`: func(p cfnresponse.Props) { p["Tls"] = "false" },
		"at least one database":              func(p cfnresponse.Props) { p["Databases"] = []any{} },
		`is not a collation of charset`:      func(p cfnresponse.Props) { p["Collation"] = "latin1_swedish_ci" },
		`property Charset: "utf8mb4;"`:       func(p cfnresponse.Props) { p["Charset"] = "utf8mb4;" },
		`invalid database name "tenant.one"`: func(p cfnresponse.Props) { p["Databases"] = []any{"tenant.one"} },
	}
	for want, mutate := range cases {
		props := base()
		mutate(props)
		_, err := parseProperties(props)
		assert.ErrorContains(t, err, want)
	}
}

func TestRemovedDatabases(t *testing.T) {
	assert.Equal(t, []string{"b"}, removedDatabases([]string{"a", "b"}, []string{"a", "c"}))
	assert.Empty(t, removedDatabases(nil, []string{"a"}))
}

func TestRedactRemovesPasswords(t *testing.T) {
	err := redact(assertErr("near 'IDENTIFIED BY 's3cret'' at line 1"), "s3cret", "")
	assert.Equal(t, "near 'IDENTIFIED BY '***'' at line 1", err.Error())
}

type assertErr string

func (e assertErr) Error() string { return string(e) }
