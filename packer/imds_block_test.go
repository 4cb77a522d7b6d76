package packer_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/bp/infra/bootcontract"
	"github.com/bp/infra/packer/internal/bootfiles"
)

// The rule the issue asks for, quoted: an OUTPUT owner match on ComfyUI's
// user towards the metadata service, rejected. IMDS's IPv6 address is the
// one AWS documents for Nitro instances.
const (
	wantRuleV4 = "OUTPUT -m owner --uid-owner comfyui -d 169.254.169.254 -j REJECT"
	wantRuleV6 = "OUTPUT -m owner --uid-owner comfyui -d fd00:ec2::254 -j REJECT"
)

// fakeFirewall puts iptables and ip6tables on PATH that log their arguments
// and keep the rules they were given in a file, like the real ones do.
func fakeFirewall(t *testing.T) (dir, log string) {
	t.Helper()
	dir = t.TempDir()
	log = filepath.Join(dir, "calls")
	fake := `#!/usr/bin/env bash
set -euo pipefail
echo "$(basename "$0") $*" >>"` + log + `"
[[ "$1" == -w ]] || { echo "missing -w (xtables lock wait)" >&2; exit 2; }
rules="` + dir + `/$(basename "$0").rules"
touch "$rules"
case "$2" in
  -C) shift 2; grep -qxF -- "$*" "$rules" ;;
  -I) shift 2; echo "$*" >>"$rules" ;;
  *) echo "unexpected $2" >&2; exit 2 ;;
esac
`
	for _, tool := range []string{"iptables", "ip6tables"} {
		writeFile(t, filepath.Join(dir, tool), fake, 0o755)
	}
	return dir, log
}

func TestIMDSBlock_GeneratedScriptInsertsExactlyTheOwnerRuleOnce(t *testing.T) {
	t.Parallel()
	requireTool(t, "bash")
	bin, log := fakeFirewall(t)
	block, err := filepath.Abs(bootfiles.IMDSBlockScriptFile)
	if err != nil {
		t.Fatal(err)
	}
	env := []string{"PATH=" + bin + ":" + os.Getenv("PATH")}
	mustRun(t, env, "bash", block)
	mustRun(t, env, "bash", block) // a restart of the unit adds nothing
	want := []string{"iptables -w -C " + wantRuleV4, "iptables -w -I " + wantRuleV4}
	_, v6 := os.Stat("/proc/net/if_inet6")
	if v6 == nil {
		want = append(want, "ip6tables -w -C "+wantRuleV6, "ip6tables -w -I "+wantRuleV6)
	}
	want = append(want, "iptables -w -C "+wantRuleV4)
	if v6 == nil {
		want = append(want, "ip6tables -w -C "+wantRuleV6)
	}
	if got := strings.Split(strings.TrimSpace(readFile(t, log)), "\n"); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("firewall calls:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if rules := readFile(t, filepath.Join(bin, "iptables.rules")); rules != wantRuleV4+"\n" {
		t.Fatalf("IPv4 rules after two runs: %q", rules)
	}
}

func TestIMDSBlock_ScriptIsShellcheckClean(t *testing.T) {
	t.Parallel()
	shellcheck := requireTool(t, "shellcheck")
	if r := run(t, nil, shellcheck, "--shell=bash", "--severity=style", bootfiles.IMDSBlockScriptFile); r.err != nil {
		t.Fatalf("shellcheck:\n%s", r.out)
	}
}

// probe runs inside the network namespace as root: it listens on both IMDS
// addresses and on ComfyUI's port, then connects as each user.
const probe = `
import os, socket, sys
comfyui, worker = int(sys.argv[1]), int(sys.argv[2])
servers = []
for fam, addr, port in ((socket.AF_INET, "169.254.169.254", 80), (socket.AF_INET6, "fd00:ec2::254", 80)):
    s = socket.socket(fam); s.bind((addr, port)); s.listen(); servers.append(s)

def as_user(uid, fn):
    pid = os.fork()
    if pid == 0:
        os.setgroups([]); os.setgid(uid); os.setuid(uid)
        try: fn(); os._exit(0)
        except ConnectionRefusedError: os._exit(1)
        except Exception as e: print(e, file=sys.stderr); os._exit(2)
    return os.waitpid(pid, 0)[1] >> 8

def connect(fam, addr, port):
    def f():
        s = socket.socket(fam); s.settimeout(5); s.connect((addr, port)); s.close()
    return f

names = {0: "connected", 1: "refused", 2: "error"}
for who, uid in (("comfyui", comfyui), ("worker", worker)):
    print(who, "imds-v4", names[as_user(uid, connect(socket.AF_INET, "169.254.169.254", 80))])
    print(who, "imds-v6", names[as_user(uid, connect(socket.AF_INET6, "fd00:ec2::254", 80))])

# ComfyUI serves 127.0.0.1:8188 as its own user; the worker must still get answers.
r, w = os.pipe()
pid = os.fork()
if pid == 0:
    os.setgroups([]); os.setgid(comfyui); os.setuid(comfyui)
    l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); l.bind(("127.0.0.1", 8188)); l.listen()
    os.write(w, b"x")
    c, _ = l.accept(); c.sendall(b"system_stats ok"); c.close(); os._exit(0)
os.read(r, 1)
def fetch():
    s = socket.socket(); s.settimeout(5); s.connect(("127.0.0.1", 8188))
    if s.recv(64) != b"system_stats ok": raise Exception("no answer from ComfyUI")
print("worker comfyui-port", names[as_user(worker, fetch)])
os.waitpid(pid, 0)
`

// The real rule in a throwaway network namespace: ComfyUI's user is refused
// both IMDS addresses, the worker's user reaches them, and the worker still
// talks to ComfyUI on 127.0.0.1:8188.
func TestIMDSBlock_RefusesOnlyComfyUIsUserWithTheRealFirewall(t *testing.T) {
	t.Parallel()
	for _, tool := range []string{"iptables", "ip6tables", "ip", "unshare", "python3"} {
		requireTool(t, tool)
	}
	if !isRoot() {
		t.Skip("needs root for a network namespace")
	}
	const comfyuiUID, workerUID = 61000, 61001
	dir := t.TempDir()
	hostPasswd := readFile(t, "/etc/passwd")
	passwd := filepath.Join(dir, "passwd")
	writeFile(t, passwd, hostPasswd+
		bootcontract.ComfyUIUser+":x:"+strconv.Itoa(comfyuiUID)+":"+strconv.Itoa(comfyuiUID)+"::/nonexistent:/usr/sbin/nologin\n"+
		bootcontract.WorkerUser+":x:"+strconv.Itoa(workerUID)+":"+strconv.Itoa(workerUID)+"::/nonexistent:/usr/sbin/nologin\n", 0o644)
	probePy := filepath.Join(dir, "probe.py")
	writeFile(t, probePy, probe, 0o644)
	block, err := filepath.Abs(bootfiles.IMDSBlockScriptFile)
	if err != nil {
		t.Fatal(err)
	}
	// A private mount namespace: the passwd with the two users is seen only here.
	inside := `set -euo pipefail
mount --bind "$1" /etc/passwd
ip link set lo up
ip addr add 169.254.169.254/32 dev lo
ip -6 addr add fd00:ec2::254/128 dev lo nodad
bash "$2"
echo "--- rules"
iptables -S OUTPUT
ip6tables -S OUTPUT
echo "--- probe"
python3 "$3" "$4" "$5"
`
	r := run(t, nil, "unshare", "--net", "--mount", "--propagation", "private", "bash", "-c", inside, "inside",
		passwd, block, probePy, strconv.Itoa(comfyuiUID), strconv.Itoa(workerUID))
	if r.err != nil {
		t.Fatalf("namespace run: %v\n%s", r.err, r.out)
	}
	rules := r.out[strings.Index(r.out, "--- rules"):strings.Index(r.out, "--- probe")]
	for _, want := range []string{
		"-A OUTPUT -d 169.254.169.254/32 -m owner --uid-owner " + strconv.Itoa(comfyuiUID) + " -j REJECT --reject-with icmp-port-unreachable",
		"-A OUTPUT -d fd00:ec2::254/128 -m owner --uid-owner " + strconv.Itoa(comfyuiUID) + " -j REJECT --reject-with icmp6-port-unreachable",
	} {
		if !strings.Contains(rules, want+"\n") {
			t.Errorf("rules lack %q:\n%s", want, rules)
		}
	}
	if n := strings.Count(rules, "-A OUTPUT"); n != 2 {
		t.Errorf("%d OUTPUT rules, want exactly the two IMDS rules:\n%s", n, rules)
	}
	for _, want := range []string{"comfyui imds-v4 refused", "comfyui imds-v6 refused", "worker imds-v4 connected",
		"worker imds-v6 connected", "worker comfyui-port connected"} {
		if !strings.Contains(r.out, want+"\n") {
			t.Errorf("probe lacks %q:\n%s", want, r.out)
		}
	}
}
