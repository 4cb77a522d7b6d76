// Command lambdabuild builds the Go Lambda handlers into <out>/<name>/bootstrap
// exactly as synthesis does (internal/lambdabuild: one go build for all of
// them, and the binary cache), so `make lambdas-build` produces the binaries
// the stacks deploy.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/bp/infra/internal/lambdabuild"
	"github.com/bp/infra/internal/modroot"
)

func main() {
	out := flag.String("o", "dist/lambdas", "output folder; each handler lands in <out>/<name>/bootstrap")
	flag.Parse()
	if flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: lambdabuild -o dist/lambdas ./lambdas/cmd/dbinit [./lambdas/cmd/...]")
		os.Exit(2)
	}
	root, err := modroot.Find()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	for _, pkg := range flag.Args() {
		dir := filepath.Join(*out, filepath.Base(pkg))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		if err := lambdabuild.WriteBootstrap(root, pkg, dir); err != nil {
			fmt.Fprintf(os.Stderr, "build %s: %v\n", pkg, err)
			os.Exit(1)
		}
		fmt.Println("built", filepath.Join(dir, "bootstrap"))
	}
}
