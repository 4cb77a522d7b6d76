package lambdabuild

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/bp/infra/internal/modroot"
)

// TestNoTestBinaryLinksNetRPC: aws-lambda-go/lambda registers its net/rpc
// mode in an init unless built with -tags lambda.norpc (rpc_function.go),
// and net/rpc looks methods up by reflection, which makes the Go linker keep
// every exported method of every type it links (a handler's test binary then
// held the whole EC2 SDK: 63 MB instead of 16 MB, a second more to link). So
// only the mains under lambdas/cmd import it; no test binary links net/rpc.
func TestNoTestBinaryLinksNetRPC(t *testing.T) {
	t.Parallel()
	root, err := modroot.Find()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("go", "list", "-test", "-f", `{{.ImportPath}}{{range .Deps}}{{if eq . "net/rpc"}} net/rpc{{end}}{{end}}`, "./...")
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	tests := 0
	for _, line := range strings.Split(string(out), "\n") {
		if f := strings.Fields(line); len(f) == 0 || !strings.HasSuffix(f[0], ".test") {
			continue // a package, not a test binary (its main is "<path>.test")
		}
		tests++
		if strings.HasSuffix(line, " net/rpc") {
			t.Errorf("%s links net/rpc: move aws-lambda-go/lambda (or whatever imports net/rpc) to a main under lambdas/cmd", strings.Fields(line)[0])
		}
	}
	if tests < 10 {
		t.Fatalf("go list named %d test binaries; expected every package's:\n%s", tests, out)
	}
}
