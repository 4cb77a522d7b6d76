package dbinit

import (
	"debug/elf"
	"path/filepath"
	"testing"

	"github.com/bp/infra/internal/lambdabuild"
	"github.com/bp/infra/internal/modroot"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestBlocker6_DBInitIsSelfContainedGoBinary builds the handler exactly as the
// CDK app does at synth time (internal/lambdabuild) and checks the result is a static arm64 Linux
// executable: the old Python function failed because pymysql was not packaged.
// With a cold build cache this is most of the package's run time (the arm64
// standard library and SDK compile once); warm it takes about a second. (It
// cannot keep its link with internal/keptbuild: the Lambda build sets
// -buildid= for reproducible asset hashes, and go build needs the build ID to
// find a target up to date.)
func TestBlocker6_DBInitIsSelfContainedGoBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("cross-compiles the Lambda; skipped with -short")
	}
	root, err := modroot.Find()
	require.NoError(t, err)
	out := filepath.Join(t.TempDir(), "bootstrap")
	build, err := lambdabuild.Command(root, out, "./lambdas/cmd/dbinit").CombinedOutput()
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
