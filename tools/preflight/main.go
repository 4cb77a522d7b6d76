// Command preflight checks, before `cdk deploy`, that AWS already holds what
// the synthesized stacks of one stage read at deploy time and cannot create
// themselves: the SSM parameters that launch templates and template
// parameters resolve (the fleet AMI ids, the CDK bootstrap version) and the
// ECR images that ECS services start from. Everything it checks comes from the
// templates in cdk.out; every problem is printed at once with its fix.
//
//	go run ./tools/preflight --cdk-out cdk.out --stage staging [--stacks "network data"]
//
// Exit status: 0 nothing missing, 1 something is missing or could not be
// checked (credentials, access denied), 2 bad flags or an unreadable cdk.out.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"
)

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}

// usageError is a problem with the invocation, not with AWS.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("preflight", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cdkOut := fs.String("cdk-out", "cdk.out", "cloud assembly directory (cdk synth output)")
	stage := fs.String("stage", "", "stage to check (staging or production)")
	stacks := fs.String("stacks", "", `stacks of the stage being deployed, e.g. "network data" (default: all); their dependencies are included, as cdk deploy does`)
	app := fs.String("app", "bp", "app prefix (only used to tell the stage of stacks in a flat assembly)")
	timeout := fs.Duration("timeout", 2*time.Minute, "give up on AWS after this long")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *stage == "" {
		fmt.Fprintln(stderr, "preflight: --stage is required, e.g. --stage staging")
		return 2
	}

	plan, err := buildPlan(*cdkOut, *stage, *app, *stacks)
	if err != nil {
		var u usageError
		if errors.As(err, &u) {
			fmt.Fprintln(stderr, "preflight:", err)
		} else {
			fmt.Fprintf(stderr, "preflight: %v (run `make synth STAGE=%s` first)\n", err, *stage)
		}
		return 2
	}

	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	res := check(ctx, plan)
	return report(plan, res, stdout, stderr)
}
