// Command lambdabuild builds the Go Lambda handlers into <out>/<name>/bootstrap
// with exactly the command synthesis uses (internal/lambdabuild),
// so `make lambdas-build` produces the binaries the stacks deploy.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/bp/infra/internal/lambdabuild"
)

func main() {
	out := flag.String("o", "dist/lambdas", "output folder; each handler lands in <out>/<name>/bootstrap")
	flag.Parse()
	if flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: lambdabuild -o dist/lambdas ./lambdas/cmd/dbinit [./lambdas/cmd/...]")
		os.Exit(2)
	}
	for _, pkg := range flag.Args() {
		dir := filepath.Join(*out, filepath.Base(pkg))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		cmd := lambdabuild.Command("", filepath.Join(dir, "bootstrap"), pkg)
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
		if err := cmd.Run(); err != nil {
			fmt.Fprintf(os.Stderr, "build %s: %v\n", pkg, err)
			os.Exit(1)
		}
		fmt.Println("built", filepath.Join(dir, "bootstrap"))
	}
}
