// Command diagram draws the architecture of one stage of the synthesized app
// (cdk.out) as Graphviz DOT: resources grouped per stack, and an edge only
// for a real flow: network traffic that security groups, listeners and
// routes allow, data access that IAM policies grant, and invocations or
// notifications (see README.md). Sharing a security group, a secret or a
// cluster never links two resources.
//
//	go run ./tools/diagram --cdk-out cdk.out --stage staging -o docs/architecture.dot
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/bp/infra/internal/cfn"
)

func main() {
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if err := run(context.Background(), os.Args[1:], os.Stdout); err != nil {
		logger.Error("diagram failed", "err", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("diagram", flag.ContinueOnError)
	cdkOut := fs.String("cdk-out", "cdk.out", "cloud assembly to draw")
	stage := fs.String("stage", "staging", "stage to draw")
	app := fs.String("app", "bp", "app prefix of stack names (finds the stage in a flat assembly)")
	out := fs.String("o", "", "output file (default: stdout)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	stacks, err := cfn.LoadAssembly(*cdkOut, *app)
	if err != nil {
		return err
	}
	stageStacks, err := cfn.StageStacks(stacks, *stage)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := writeDOT(&buf, buildDiagram(*stage, stageStacks)); err != nil {
		return err
	}
	if *out == "" {
		_, err = stdout.Write(buf.Bytes())
		return err
	}
	if err := os.WriteFile(*out, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("write diagram: %w", err)
	}
	return nil
}
