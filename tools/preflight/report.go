package main

import (
	"fmt"
	"io"
	"slices"
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
	if len(res.Problems) == 0 {
		where := ""
		if res.Caller != "" {
			where = " in account " + res.Caller
		}
		fmt.Fprintf(stdout, "preflight: %s OK: stacks %s; %d SSM parameter(s) and %d image(s) present%s\n",
			p.Stage, strings.Join(names, " "), res.ParamsChecked, res.ImagesChecked, where)
		return 0
	}
	var blocked []string
	whole := false
	for _, prob := range res.Problems {
		fmt.Fprintln(stderr, prob.Text)
		whole = whole || len(prob.Stacks) == 0
		for _, s := range prob.Stacks {
			blocked = append(blocked, s.ArtifactID)
		}
	}
	fmt.Fprintf(stderr, "preflight: %s: %d problem(s) for stacks %s; nothing was deployed\n", p.Stage, len(res.Problems), strings.Join(names, " "))
	// Each line offers what deploys without its own missing piece; this is
	// what deploys without any of them.
	if now := p.stacksBefore(blocked...); len(res.Problems) > 1 && !whole && len(now) > 0 && !slices.Equal(now, names) {
		fmt.Fprintf(stderr, "preflight: stacks that need none of it can deploy now: %s\n", p.deployCmd(now, ""))
	}
	return 1
}
