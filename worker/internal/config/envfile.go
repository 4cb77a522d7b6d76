package config

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/bp/infra/bootcontract"
)

// KnownKeys is every key the worker reads from its environment file.
func KnownKeys() []string {
	return []string{
		bootcontract.EnvAPIBaseURL, bootcontract.EnvStage, bootcontract.EnvFleetSlug,
		bootcontract.EnvASGName, bootcontract.EnvFleetSecretARN, bootcontract.EnvRegion,
		bootcontract.EnvModelsBucket, bootcontract.EnvActiveBundleParam, bootcontract.EnvLogLevel,
		bootcontract.EnvFleetSecret, bootcontract.EnvComfyUIURL, bootcontract.EnvMetricsEnabled, bootcontract.EnvMetricsNamespace,
	}
}

var keyPattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// ParseEnvFile reads a systemd EnvironmentFile (KEY=VALUE lines, # or ;
// comments, optional single or double quotes). It reports every bad line and
// every key the worker does not know (a likely typo) at once.
func ParseEnvFile(r io.Reader, name string) (map[string]string, error) {
	known := map[string]bool{}
	for _, k := range KnownKeys() {
		known[k] = true
	}
	vals := map[string]string{}
	var errs []error
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		line = strings.TrimPrefix(line, "export ")
		key, val, ok := strings.Cut(line, "=")
		key = strings.TrimSpace(key)
		if !ok {
			errs = append(errs, fmt.Errorf("%s:%d: %q is not KEY=VALUE: write it as KEY=VALUE", name, n, line))
			continue
		}
		if !keyPattern.MatchString(key) {
			errs = append(errs, fmt.Errorf("%s:%d: key %q is not a valid variable name: use letters, digits and _", name, n, key))
			continue
		}
		if !known[key] {
			errs = append(errs, fmt.Errorf("%s:%d: unknown key %q: the worker reads only %s", name, n, key, strings.Join(KnownKeys(), ", ")))
			continue
		}
		v, err := unquote(strings.TrimSpace(val))
		if err != nil {
			errs = append(errs, fmt.Errorf("%s:%d: value of %s: %w", name, n, key, err))
			continue
		}
		vals[key] = v
	}
	if err := sc.Err(); err != nil {
		errs = append(errs, fmt.Errorf("read %s: %w", name, err))
	}
	return vals, errors.Join(errs...)
}

func unquote(v string) (string, error) {
	if len(v) >= 1 && (v[0] == '"' || v[0] == '\'') {
		if len(v) < 2 || v[len(v)-1] != v[0] {
			return "", fmt.Errorf("unterminated quote in %s: close the quote", v)
		}
		return v[1 : len(v)-1], nil
	}
	return v, nil
}
