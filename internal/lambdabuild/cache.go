package lambdabuild

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
)

// Linking the six handlers takes a synth process 1.5-3.5 s even with a warm
// compile cache, and every `cdk synth` and test binary is a new process.
// The cache keeps each linked binary under a key of everything go build would
// read: the build ID (actionID/contentID) go list reports for the package and
// every package it imports, the build flags and environment, go env and
// go.mod/go.sum. Any change to a source file, a dependency, the toolchain or a
// flag changes some build ID and so the key; the binary itself is exactly
// what go build wrote for that key.

// cacheFolder holds the binaries (~/.cache/bp-infra/lambda-bin).
const cacheFolder = "lambda-bin"

// goEnvKeys are the go env settings that shape a linked binary beyond the
// build IDs (the toolchain, target, experiments, flags, GODEBUG); not
// GOGCCFLAGS, which holds a random temporary path.
var goEnvKeys = []string{"GOVERSION", "GOROOT", "GOTOOLDIR", "GOTOOLCHAIN", "GOOS", "GOARCH", "GOARM64", "CGO_ENABLED",
	"GOEXPERIMENT", "GOFIPS140", "GODEBUG", "GOFLAGS", "GOWORK"}

// listTemplate prints one package a line: import path, build ID, whether it
// or a dependency failed to load and, for the main packages asked for, the
// folder and the dependencies.
const listTemplate = `{{.ImportPath}}	{{.BuildID}}	{{if .Incomplete}}incomplete{{end}}	` +
	`{{if and (not .DepOnly) (eq .Name "main")}}{{.Dir}}	{{join .Deps " "}}{{else}}	{{end}}`

// buildKeys lists the main packages matching pattern in moduleRoot and
// returns the cache key of each by package folder. Packages that do not load
// have no key (go build reports their errors).
func buildKeys(moduleRoot, pattern string) (map[string]string, error) {
	env := append(os.Environ(), buildEnv()...)
	goEnv := exec.Command("go", append([]string{"env", "-json"}, goEnvKeys...)...)
	goEnv.Dir, goEnv.Env = moduleRoot, env
	list := exec.Command("go", append(append([]string{"list", "-e", "-deps", "-export"}, flags()...),
		"-f", listTemplate, pattern)...)
	list.Dir, list.Env = moduleRoot, env
	var listOut, listErr bytes.Buffer
	list.Stdout, list.Stderr = &listOut, &listErr
	if err := list.Start(); err != nil {
		return nil, err
	}
	envOut, envErr := goEnv.Output()
	if err := list.Wait(); err != nil {
		return nil, fmt.Errorf("go list: %v: %s", err, listErr.Bytes())
	}
	if envErr != nil {
		return nil, fmt.Errorf("go env: %v", envErr)
	}
	common := sha256.New()
	fmt.Fprintf(common, "lambda binary cache v1\nflags %q\nenv %q\ngo env %s\n", flags(), buildEnv(), envOut)
	for _, f := range []string{"go.mod", "go.sum", "go.work", "go.work.sum"} {
		raw, err := os.ReadFile(filepath.Join(moduleRoot, f))
		if err != nil && !os.IsNotExist(err) {
			return nil, err
		}
		fmt.Fprintf(common, "%s %d %s\n", f, len(raw), raw)
	}
	ids := map[string]string{}
	type mainPkg struct{ path, dir, deps string }
	var mains []mainPkg
	sc := bufio.NewScanner(&listOut)
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		f := strings.Split(sc.Text(), "\t")
		if len(f) != 5 {
			return nil, fmt.Errorf("go list: unexpected line %q", sc.Text())
		}
		if f[2] == "" {
			ids[f[0]] = f[1] // "" for unsafe, which compiles to nothing
		}
		if f[3] != "" {
			mains = append(mains, mainPkg{path: f[0], dir: f[3], deps: f[4]})
		}
	}
	keys := map[string]string{}
next:
	for _, m := range mains {
		h := sha256.New()
		h.Write(common.Sum(nil))
		deps := append(strings.Fields(m.deps), m.path)
		slices.Sort(deps)
		for _, d := range deps {
			id, ok := ids[d]
			if !ok {
				continue next
			}
			fmt.Fprintf(h, "%s %s\n", d, id)
		}
		keys[m.dir] = hex.EncodeToString(h.Sum(nil))
	}
	return keys, nil
}
