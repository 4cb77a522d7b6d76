// Command worker is the ComfyUI GPU worker daemon; see worker/README.md.
package main

import (
	"context"
	"os"

	"github.com/bp/infra/worker/internal/cli"
)

func main() {
	os.Exit(cli.Main(context.Background(), os.Args[1:], cli.Env{Lookup: os.LookupEnv, Stdout: os.Stdout, Stderr: os.Stderr}))
}
