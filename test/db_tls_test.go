package test

import (
	"crypto/x509"
	"encoding/pem"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/bp/infra/internal/testtool"
)

// TestDatabaseRequiresTLS: RDS for MariaDB User Guide, "Requiring SSL/TLS for
// all connections": "set the require_secure_transport parameter to ON" (RDS
// boolean parameters take 1 for ON); then a client without TLS gets
// "ERROR 1045 (28000): Access denied". DB-init creates the app user
// REQUIRE SSL (lambdas/dbinit tests prove both against a real MariaDB).
func TestDatabaseRequiresTLS(t *testing.T) {
	for _, b := range all() {
		params := get(b.templates["data"].One(t, "AWS::RDS::DBParameterGroup").Props, "Parameters.require_secure_transport")
		if !slices.Contains([]string{"1", "ON"}, str(params)) {
			t.Errorf("%s: require_secure_transport = %v, want ON (1)", b.label, params)
		}
	}
}

// TestBackendVerifiesTheDatabaseWithTheRdsCAs runs the task's own CA init
// command (as ECS would: sh -c with the container's environment) into a
// folder standing in for its volume, then checks that every Laravel
// container reads that very file through MYSQL_ATTR_SSL_CA (the env name
// Laravel's config gives PDO::MYSQL_ATTR_SSL_CA), mounted read-only, after the
// init container succeeded. The file must hold the CA RDS signs new us-east-1
// instances with (RDS User Guide: rds-ca-rsa2048-g1 is the default CA).
func TestBackendVerifiesTheDatabaseWithTheRdsCAs(t *testing.T) {
	sh := testtool.Require(t, "sh", "any POSIX shell")
	for _, b := range all() {
		family := b.stage.Names.Service("backend")
		tpl := b.templates["compute"]
		init := container(t, tpl, family, "rds-ca-init")
		if init["Essential"] != false {
			t.Errorf("%s: rds-ca-init must be non-essential (it exits when done)", b.label)
		}
		volume, dir := onlyMount(t, init)
		cmd, _ := init["Command"].([]any)
		entry, _ := init["EntryPoint"].([]any)
		if len(entry) != 2 || entry[0] != "sh" || entry[1] != "-c" || len(cmd) != 1 {
			t.Fatalf("%s: rds-ca-init runs %v %v, want sh -c <script>", b.label, entry, cmd)
		}
		scratch := t.TempDir()
		script := strings.ReplaceAll(str(cmd[0]), dir, scratch)
		run := exec.Command(sh, "-c", script)
		for k, v := range envNames(init, "Environment") {
			run.Env = append(run.Env, k+"="+str(v))
		}
		if out, err := run.CombinedOutput(); err != nil {
			t.Fatalf("%s: rds-ca-init command failed: %v\n%s", b.label, err, out)
		}
		files, _ := filepath.Glob(filepath.Join(scratch, "*"))
		if len(files) != 1 {
			t.Fatalf("%s: rds-ca-init wrote %v, want one bundle", b.label, files)
		}
		written := path.Join(dir, filepath.Base(files[0]))
		if cns := certNames(t, files[0]); !slices.Contains(cns, "Amazon RDS us-east-1 Root CA RSA2048 G1") {
			t.Errorf("%s: the bundle holds %v, not the default RDS CA of us-east-1", b.label, cns)
		}
		for _, name := range []string{"php-fpm", "scheduler", "queue-worker"} {
			c := container(t, tpl, family, name)
			ca := str(envNames(c, "Environment")["MYSQL_ATTR_SSL_CA"])
			if ca != written {
				t.Errorf("%s/%s: MYSQL_ATTR_SSL_CA = %q, want the file rds-ca-init writes, %s", b.label, name, ca, written)
			}
			mounted := false
			for _, m := range anyList(c["MountPoints"]) {
				if get(m, "SourceVolume") == volume && get(m, "ContainerPath") == dir && get(m, "ReadOnly") == true {
					mounted = true
				}
			}
			if !mounted {
				t.Errorf("%s/%s: volume %s is not mounted read-only at %s", b.label, name, volume, dir)
			}
			if !slices.ContainsFunc(anyList(c["DependsOn"]), func(d any) bool {
				return get(d, "ContainerName") == "rds-ca-init" && get(d, "Condition") == "SUCCESS"
			}) {
				t.Errorf("%s/%s: does not wait for rds-ca-init to succeed", b.label, name)
			}
		}
	}
}

func onlyMount(t *testing.T, c map[string]any) (volume, dir string) {
	t.Helper()
	mounts := anyList(c["MountPoints"])
	if len(mounts) != 1 || get(mounts[0], "ReadOnly") == true {
		t.Fatalf("rds-ca-init mounts %v, want one writable volume", mounts)
	}
	return str(get(mounts[0], "SourceVolume")), str(get(mounts[0], "ContainerPath"))
}

func certNames(t *testing.T, file string) []string {
	t.Helper()
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for rest := raw; ; {
		var b *pem.Block
		if b, rest = pem.Decode(rest); b == nil {
			break
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		out = append(out, c.Subject.CommonName)
	}
	return out
}
