package main

import (
	"debug/elf"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// cdkBuildArgs and cdkBuildEnv are the go build arguments and environment of
// constructs/gofunction (BuildArgs, BuildEnv), which the CDK app uses at synth.
// They are copied, not imported: importing the construct would compile the
// whole CDK into this test binary. TestBuildCommandMatchesTheCDKBundler keeps
// the copy honest. Same flags also means the same build-cache entries as synth.
var (
	cdkBuildArgs = []string{"build", "-trimpath", "-buildvcs=false", "-tags", "lambda.norpc", "-ldflags", "-s -w -buildid=", "-o"}
	cdkBuildEnv  = []string{"GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0"}
)

// TestBlocker6_DBInitIsSelfContainedGoBinary builds the handler exactly as the
// CDK app does at synth time and checks the result is a static arm64 Linux
// executable: the old Python function failed because pymysql was not packaged.
// With a cold build cache this is most of the package's run time (the arm64
// standard library and SDK compile once); warm it takes about a second.
func TestBlocker6_DBInitIsSelfContainedGoBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("cross-compiles the Lambda; skipped with -short")
	}
	root := moduleRoot(t)
	out := filepath.Join(t.TempDir(), "bootstrap")
	cmd := exec.Command("go", append(append(append([]string{}, cdkBuildArgs...), out), "./lambdas/dbinit")...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), cdkBuildEnv...)
	build, err := cmd.CombinedOutput()
	require.NoError(t, err, "CDK build command failed:\n%s", build)

	f, err := elf.Open(out)
	require.NoError(t, err)
	defer f.Close()
	assert.Equal(t, elf.EM_AARCH64, f.Machine, "provided.al2023 arm64 needs an aarch64 binary")
	assert.Equal(t, elf.ET_EXEC, f.Type, "static, non-PIE executable")
	for _, p := range f.Progs {
		assert.NotEqual(t, elf.PT_INTERP, p.Type, "a dynamic loader means the binary is not static")
	}
	libs, err := f.ImportedLibraries()
	require.NoError(t, err)
	assert.Empty(t, libs, "no shared library may be needed at run time")
	assert.Nil(t, f.Section(".dynamic"), "no dynamic section in a CGO_ENABLED=0 build")
}

// TestBuildCommandMatchesTheCDKBundler reads constructs/gofunction's
// BuildArgs and BuildEnv from source and compares their string literals with
// the copies above.
func TestBuildCommandMatchesTheCDKBundler(t *testing.T) {
	file := filepath.Join(moduleRoot(t), "constructs", "gofunction", "bundler.go")
	f, err := parser.ParseFile(token.NewFileSet(), file, nil, 0)
	require.NoError(t, err)
	literals := func(name string) []string {
		var out []string
		for _, decl := range f.Decls {
			fn, ok := decl.(*ast.FuncDecl)
			if !ok || fn.Name.Name != name {
				continue
			}
			ast.Inspect(fn.Body, func(n ast.Node) bool {
				if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING {
					v, err := strconv.Unquote(lit.Value)
					require.NoError(t, err)
					out = append(out, v)
				}
				return true
			})
		}
		require.NotEmpty(t, out, "%s not found in %s", name, file)
		return out
	}
	assert.Equal(t, cdkBuildArgs, literals("BuildArgs"), "update cdkBuildArgs to the bundler's flags")
	assert.Equal(t, cdkBuildEnv, literals("BuildEnv"), "update cdkBuildEnv to the bundler's environment")
}

func moduleRoot(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "env", "GOMOD").Output()
	require.NoError(t, err)
	gomod := strings.TrimSpace(string(out))
	require.NotEmpty(t, gomod, "not inside the module")
	return filepath.Dir(gomod)
}
