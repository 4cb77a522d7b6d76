package packer_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/bp/infra/bootcontract"
)

// amazonAgentKeyFingerprint is the CloudWatch agent signing key published in
// the AWS docs ("Verify the signature of the CloudWatch agent package").
const amazonAgentKeyFingerprint = "937616F3450B7D806CBD9725D58167303B789C72"

const testAgentVersion = "1.300064.1b1344"

// agentFixture is a fake S3 download (a real .deb, signed with a test key),
// a fake curl serving it and a fake dpkg that unpacks into the --root.
type agentFixture struct {
	s3, bin, root, fingerprint, otherFingerprint string
	gnupg                                        string
}

func newAgentFixture(t *testing.T, debVersion string) agentFixture {
	t.Helper()
	requireTool(t, "gpg")
	requireTool(t, "dpkg-deb")
	dir := t.TempDir()
	// gpg-agent's socket lives in GNUPGHOME; t.TempDir() paths are too long for it.
	gnupg, err := os.MkdirTemp("", "gpg")
	must(t, err)
	gpgEnv := []string{"GNUPGHOME=" + gnupg}
	t.Cleanup(func() {
		run(t, gpgEnv, "gpgconf", "--kill", "gpg-agent")
		os.RemoveAll(gnupg)
	})
	f := agentFixture{s3: filepath.Join(dir, "s3"), bin: filepath.Join(dir, "bin"), root: filepath.Join(dir, "root"), gnupg: gnupg}
	must(t, os.Chmod(f.gnupg, 0o700))
	must(t, os.MkdirAll(f.root, 0o755))
	f.fingerprint = genKey(t, gpgEnv, "agent-signer@example.invalid")
	f.otherFingerprint = genKey(t, gpgEnv, "someone-else@example.invalid")

	// The package: the agent binary and ctl at the contract paths.
	pkg := filepath.Join(dir, "pkg")
	for _, exe := range []string{bootcontract.CloudWatchAgentBinary, bootcontract.CloudWatchAgentCtl} {
		writeFile(t, filepath.Join(pkg, exe), "#!/bin/sh\nexit 0\n", 0o755)
	}
	writeFile(t, filepath.Join(pkg, "DEBIAN/control"), "Package: amazon-cloudwatch-agent\nVersion: "+debVersion+
		"\nArchitecture: amd64\nMaintainer: test\nDescription: test stand-in\n", 0o644)
	debDir := filepath.Join(f.s3, "ubuntu/amd64", testAgentVersion)
	must(t, os.MkdirAll(debDir, 0o755))
	deb := filepath.Join(debDir, "amazon-cloudwatch-agent.deb")
	mustRun(t, nil, "dpkg-deb", "--root-owner-group", "--build", pkg, deb)
	mustRun(t, gpgEnv, "gpg", "--batch", "--yes", "--local-user", f.fingerprint, "--output", deb+".sig", "--detach-sign", deb)
	must(t, os.MkdirAll(filepath.Join(f.s3, "assets"), 0o755))
	mustRun(t, gpgEnv, "gpg", "--batch", "--yes", "--output", filepath.Join(f.s3, "assets/amazon-cloudwatch-agent.gpg"), "--export", f.fingerprint)

	// curl -fsSL --retry N -o FILE URL: copy the URL's path out of s3/.
	writeFile(t, filepath.Join(f.bin, "curl"), `#!/usr/bin/env bash
set -euo pipefail
out="" url=""
while [[ $# -gt 0 ]]; do case "$1" in -o) out="$2"; shift 2 ;; --retry) shift 2 ;; -*) shift ;; *) url="$1"; shift ;; esac; done
cp "${FAKE_S3}/${url#https://downloads.example.invalid/}" "$out"
`, 0o755)
	// dpkg --root=DIR -i DEB: record the call, unpack like dpkg would.
	writeFile(t, filepath.Join(f.bin, "dpkg"), `#!/usr/bin/env bash
set -euo pipefail
echo "$*" >>"${FAKE_DPKG_LOG}"
dpkg-deb -x "${@: -1}" "${1#--root=}"
`, 0o755)
	return f
}

func genKey(t *testing.T, env []string, uid string) string {
	t.Helper()
	mustRun(t, env, "gpg", "--batch", "--passphrase", "", "--quick-gen-key", uid, "ed25519", "sign", "1d")
	out := mustRun(t, env, "gpg", "--batch", "--with-colons", "--fingerprint", uid)
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "fpr:") {
			return strings.Split(line, ":")[9]
		}
	}
	t.Fatalf("no fingerprint for %s:\n%s", uid, out)
	return ""
}

func (f agentFixture) install(t *testing.T, fingerprint string, extraEnv ...string) (result, string) {
	t.Helper()
	dpkgLog := filepath.Join(t.TempDir(), "dpkg.log")
	env := append(bootEnv(),
		"PATH="+f.bin+":"+os.Getenv("PATH"),
		"FAKE_S3="+f.s3, "FAKE_DPKG_LOG="+dpkgLog,
		"CLOUDWATCH_AGENT_VERSION="+testAgentVersion,
		"CLOUDWATCH_AGENT_BASE_URL=https://downloads.example.invalid",
		"CLOUDWATCH_AGENT_KEY_FINGERPRINT="+fingerprint)
	r := run(t, append(env, extraEnv...), script(t, "install-cloudwatch-agent.sh"), "--root", f.root)
	calls, _ := os.ReadFile(dpkgLog)
	return r, string(calls)
}

func TestInstallCloudWatchAgent_InstallsTheVerifiedPinnedPackage(t *testing.T) {
	t.Parallel()
	f := newAgentFixture(t, testAgentVersion+"-1")
	r, dpkg := f.install(t, f.fingerprint)
	if r.err != nil {
		t.Fatalf("install failed: %v\n%s", r.err, r.out)
	}
	if !strings.HasPrefix(dpkg, "--root="+f.root+" -i ") {
		t.Errorf("dpkg calls = %q, want one dpkg --root=%s -i <deb>", dpkg, f.root)
	}
	for _, exe := range []string{bootcontract.CloudWatchAgentBinary, bootcontract.CloudWatchAgentCtl} {
		if fi, err := os.Stat(filepath.Join(f.root, exe)); err != nil || fi.Mode().Perm()&0o111 == 0 {
			t.Errorf("%s not installed executable: %v", exe, err)
		}
	}
}

// Nothing reaches dpkg unless the package is the pinned one, signed by the pinned key.
func TestInstallCloudWatchAgent_RefusesUnverifiedPackages(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, debVersion, message string
		breakIt                   func(t *testing.T, f agentFixture)
		otherKey                  bool
		env                       []string
	}{
		{name: "tampered package", debVersion: testAgentVersion, message: "does not verify",
			breakIt: func(t *testing.T, f agentFixture) {
				deb := filepath.Join(f.s3, "ubuntu/amd64", testAgentVersion, "amazon-cloudwatch-agent.deb")
				data := readFile(t, deb)
				writeFile(t, deb, data+"x", 0o644)
			}},
		{name: "signed by another key", debVersion: testAgentVersion, otherKey: true, message: "does not verify"},
		{name: "package of another version", debVersion: "1.300001.0b1", message: "want " + testAgentVersion},
		{name: "latest instead of a pin", debVersion: testAgentVersion, env: []string{"CLOUDWATCH_AGENT_VERSION=latest"}, message: "not a pinned build"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			f := newAgentFixture(t, c.debVersion)
			if c.breakIt != nil {
				c.breakIt(t, f)
			}
			fpr := f.fingerprint
			if c.otherKey {
				fpr = f.otherFingerprint
			}
			r, dpkg := f.install(t, fpr, c.env...)
			if r.err == nil || !strings.Contains(r.out, c.message) {
				t.Fatalf("want a failure with %q, got err=%v\n%s", c.message, r.err, r.out)
			}
			if dpkg != "" {
				t.Errorf("dpkg ran despite %s: %s", c.name, dpkg)
			}
		})
	}
}

// The template installs the agent from Amazon's download, verified with
// Amazon's documented key, at the pinned version variable.
func TestTemplate_CloudWatchAgentIsPinnedAndVerified(t *testing.T) {
	tpl := parseTemplate(t)
	ctx := fullContext(t, tpl)
	steps := provisionerSteps(t, tpl, ctx)
	i := stepIndex(steps, "script:install-cloudwatch-agent.sh")
	if i < 0 {
		t.Fatal("the template does not run install-cloudwatch-agent.sh")
	}
	v, diags := steps[i].block.Body.Attributes["environment_vars"].Expr.Value(ctx)
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	env := stringList(t, v)
	version := variableValues(t, tpl)["cloudwatch_agent_version"].AsString()
	for _, want := range []string{
		"CLOUDWATCH_AGENT_VERSION=" + version,
		"CLOUDWATCH_AGENT_BASE_URL=https://amazoncloudwatch-agent.s3.amazonaws.com",
		"CLOUDWATCH_AGENT_KEY_FINGERPRINT=" + amazonAgentKeyFingerprint,
	} {
		if !slices.Contains(env, want) {
			t.Errorf("install-cloudwatch-agent.sh does not get %s (has %v)", want, env)
		}
	}
	if i >= stepIndex(steps, "script:self-check.sh") {
		t.Error("the agent must be installed before the self-check")
	}
}
