package main

import (
	"fmt"
	"io"
	"strings"
)

// report prints the notes, then every problem on its own line (stderr), or
// the one-line summary (stdout), and returns the exit status.
func report(p *plan, res result, stdout, stderr io.Writer) int {
	for _, n := range p.Notes {
		fmt.Fprintln(stdout, "preflight: skipped:", n)
	}
	var names []string
	for _, s := range p.Deploy {
		names = append(names, s.ShortName())
	}
	if len(res.Problems) > 0 {
		for _, prob := range res.Problems {
			fmt.Fprintln(stderr, prob)
		}
		fmt.Fprintf(stderr, "preflight: %s: %d problem(s) for stacks %s; nothing was deployed\n", p.Stage, len(res.Problems), strings.Join(names, " "))
		return 1
	}
	where := ""
	if res.Caller != "" {
		where = " in account " + res.Caller
	}
	fmt.Fprintf(stdout, "preflight: %s OK: stacks %s; %d SSM parameter(s) and %d image(s) present%s\n",
		p.Stage, strings.Join(names, " "), res.ParamsChecked, res.ImagesChecked, where)
	return 0
}
