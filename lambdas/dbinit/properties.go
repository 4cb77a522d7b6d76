package dbinit

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/bp/infra/lambdas/internal/cfnresponse"
)

// identifierPattern is deliberately narrower than MariaDB allows: names that
// match it need no escaping inside backticks or single quotes.
var identifierPattern = regexp.MustCompile(`^[A-Za-z0-9_]{1,64}$`)

// userPattern allows MariaDB's 80-character user names, same alphabet.
var userPattern = regexp.MustCompile(`^[A-Za-z0-9_]{1,80}$`)

// properties are the custom resource's ResourceProperties.
type properties struct {
	MasterSecretArn string
	AppSecretArn    string
	Host            string
	Port            int
	Databases       []string
	Charset         string
	Collation       string
}

func parseProperties(p cfnresponse.Props) (properties, error) {
	var out properties
	var err error
	get := func(key string, def string, required bool) string {
		if err != nil {
			return ""
		}
		var v string
		if required {
			v, err = p.RequiredString(key)
		} else {
			v, err = p.String(key, def)
		}
		return v
	}
	out.MasterSecretArn = get("MasterSecretArn", "", true)
	out.AppSecretArn = get("AppSecretArn", "", true)
	out.Host = get("Host", "", true)
	port := get("Port", "3306", false)
	out.Charset = get("Charset", "utf8mb4", false)
	out.Collation = get("Collation", "utf8mb4_unicode_ci", false)
	tlsFlag := get("Tls", "true", false)
	if err != nil {
		return properties{}, err
	}

	if out.Port, err = strconv.Atoi(port); err != nil || out.Port < 1 || out.Port > 65535 {
		return properties{}, fmt.Errorf("property Port: %q is not a TCP port", port)
	}
	// Tls is accepted for templates that still send it; plain text is no
	// longer an option (the app user requires TLS, RDS requires secure transport).
	if on, perr := strconv.ParseBool(tlsFlag); perr != nil || !on {
		return properties{}, fmt.Errorf("property Tls: %q is not supported: DB-init always connects with TLS and verifies the RDS certificate; set \"true\" or leave it out", tlsFlag)
	}
	if !identifierPattern.MatchString(out.Charset) {
		return properties{}, fmt.Errorf("property Charset: %q does not match %s", out.Charset, identifierPattern)
	}
	if !identifierPattern.MatchString(out.Collation) {
		return properties{}, fmt.Errorf("property Collation: %q does not match %s", out.Collation, identifierPattern)
	}
	if !strings.HasPrefix(strings.ToLower(out.Collation), strings.ToLower(out.Charset)+"_") {
		return properties{}, fmt.Errorf("property Collation: %q is not a collation of charset %q", out.Collation, out.Charset)
	}
	if out.Databases, err = parseDatabases(p); err != nil {
		return properties{}, err
	}
	if len(out.Databases) == 0 {
		return properties{}, fmt.Errorf("property Databases: at least one database is required")
	}
	return out, nil
}

// parseDatabases reads and validates the Databases list, dropping duplicates.
func parseDatabases(p cfnresponse.Props) ([]string, error) {
	list, err := p.StringList("Databases")
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var out []string
	for _, name := range list {
		if err := validateDatabaseName(name); err != nil {
			return nil, err
		}
		if !seen[name] {
			seen[name] = true
			out = append(out, name)
		}
	}
	return out, nil
}

func validateDatabaseName(name string) error {
	if !identifierPattern.MatchString(name) {
		return fmt.Errorf("invalid database name %q: must match %s", name, identifierPattern)
	}
	return nil
}

func validateUserName(name string) error {
	if !userPattern.MatchString(name) {
		return fmt.Errorf("invalid user name %q in the app secret: must match %s", name, userPattern)
	}
	return nil
}

// removedDatabases lists names in old but not in current.
func removedDatabases(old, current []string) []string {
	keep := map[string]bool{}
	for _, n := range current {
		keep[n] = true
	}
	var out []string
	for _, n := range old {
		if !keep[n] {
			out = append(out, n)
		}
	}
	return out
}
