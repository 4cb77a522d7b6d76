// Command cost prints the fixed monthly cost at idle of every stage and stack
// of a synthesized CDK app (cdk.out), the unit prices of what grows with use,
// and with --diff what a change adds or removes per month.
//
// With a usage profile (tools/cost/profiles) it also projects what each
// stage's cost hotspots (GPU hours, NAT, logs, RDS growth, egress) add.
//
//	go run ./tools/cost [--cdk-out cdk.out] [--diff base/cdk.out] [--format table|json] [--profile auto|none|<name>|<file.json>]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/bp/infra/internal/cfn"
)

// errUnpriced is returned with --fail-on-unpriced when some line has no price.
var errUnpriced = errors.New("some resources are unpriced")

func main() {
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if err := run(context.Background(), os.Args[1:], os.Stdout, logger); err != nil {
		logger.Error("cost report failed", "err", err)
		os.Exit(1)
	}
}

type options struct {
	cdkOut, diffBase, format, region, pricesPath, app, stage, profile string
	failOnUnpriced                                                    bool
}

func parseFlags(args []string) (options, error) {
	var o options
	fs := flag.NewFlagSet("cost", flag.ContinueOnError)
	fs.StringVar(&o.cdkOut, "cdk-out", "cdk.out", "cloud assembly to price")
	fs.StringVar(&o.diffBase, "diff", "", "base cloud assembly: show what --cdk-out adds or removes compared with it")
	fs.StringVar(&o.format, "format", "table", "output format: table or json")
	fs.StringVar(&o.region, "region", "us-east-1", "region of the embedded price file to use")
	fs.StringVar(&o.pricesPath, "prices", "", "price file to use instead of the embedded one")
	fs.StringVar(&o.app, "app", "bp", "app prefix of stack names (finds the stage in a flat assembly)")
	fs.StringVar(&o.stage, "stage", "", "only this stage (default: all)")
	fs.StringVar(&o.profile, "profile", profileAuto, "usage profile to project: auto (each stage with tools/cost/profiles/<stage>.json), none, a profile name, or a JSON file")
	fs.BoolVar(&o.failOnUnpriced, "fail-on-unpriced", false, "exit non-zero when a resource has no price")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if o.format != "table" && o.format != "json" {
		return o, fmt.Errorf("unknown --format %q: use table or json", o.format)
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	return o, nil
}

func run(ctx context.Context, args []string, out io.Writer, logger *slog.Logger) error {
	o, err := parseFlags(args)
	if err != nil {
		return err
	}
	prices, err := LoadPrices(o.region, o.pricesPath)
	if err != nil {
		return err
	}
	head, err := reportFor(ctx, o.cdkOut, o, prices)
	if err != nil {
		return err
	}
	var unpriced []UnpricedItem
	if o.diffBase == "" {
		unpriced = head.Unpriced
		if o.format == "json" {
			err = writeJSON(out, head)
		} else {
			err = writeTable(out, head)
		}
	} else {
		base, berr := reportFor(ctx, o.diffBase, o, prices)
		if errors.Is(berr, cfn.ErrNoStage) {
			// A stage the change adds: everything in it is new.
			base, berr = Report{Region: head.Region}, nil
		}
		if berr != nil {
			return fmt.Errorf("base assembly: %w", berr)
		}
		d := diffReports(base, head)
		unpriced = d.Unpriced
		if o.format == "json" {
			err = writeJSON(out, d)
		} else {
			err = writeDiffTable(out, d)
		}
	}
	if err != nil {
		return err
	}
	for _, u := range unpriced {
		logger.Warn("unpriced resource left out of the totals", "stage", u.Stage, "stack", u.Stack, "resource", u.Resource, "item", u.Item, "reason", u.Reason)
	}
	if o.failOnUnpriced && len(unpriced) > 0 {
		return fmt.Errorf("%w: %d", errUnpriced, len(unpriced))
	}
	return nil
}

func reportFor(ctx context.Context, dir string, o options, prices *Prices) (Report, error) {
	if err := ctx.Err(); err != nil {
		return Report{}, err
	}
	stacks, err := cfn.LoadAssembly(dir, o.app)
	if err != nil {
		return Report{}, err
	}
	if o.stage != "" {
		if stacks, err = cfn.StageStacks(stacks, o.stage); err != nil {
			return Report{}, fmt.Errorf("%s: %w", dir, err)
		}
	}
	r := buildReport(stacks, prices)
	stages := make([]string, 0, len(r.Stages))
	for _, s := range r.Stages {
		stages = append(stages, s.Name)
	}
	if r.Projections, err = projectStages(stacks, stages, o.profile, prices); err != nil {
		return Report{}, err
	}
	return r, nil
}
