// Command slottime reads the trace `go test -debug-trace=FILE ./...` writes
// and prints where the run's time went in the go command's terms: each
// compile, link and test run holds one of -p slots from start to end,
// sleeping or not, so the sum of those actions divided by the slots is the
// floor of the run's wall time, whatever the CPU does (issue 13's budget;
// scripts/timing.sh prints it for one more, traced run).
//
// The trace is in the Trace Event Format (the Chrome/Perfetto one): a JSON
// array of events; an action is a "B" (begin) and an "E" (end) event of one
// thread (tid) named "Executing action (<mode> <package>)", times ("ts") in
// microseconds.
//
// Usage: slottime TRACE.json
package main

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: slottime TRACE.json (written by go test -debug-trace=TRACE.json)")
		os.Exit(2)
	}
	raw, err := os.ReadFile(os.Args[1])
	if err == nil {
		var s summary
		if s, err = summarize(raw); err == nil {
			s.print(os.Stdout)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "slottime:", err)
		os.Exit(1)
	}
}

type event struct {
	Name  string  `json:"name"`
	Phase string  `json:"ph"`
	TS    float64 `json:"ts"` // microseconds
	TID   int     `json:"tid"`
}

// action is one executed action, in seconds from the first one's start.
type action struct {
	kind, pkg  string
	start, end float64
}

type summary struct {
	wall    float64            // the first action's start to the last one's end
	slots   int                // the most actions running at once (-p when the run fills its slots)
	byKind  map[string]float64 // slot seconds by kind
	busy    []float64          // busy[k]: seconds with exactly k actions running
	actions []action
}

const prefix = "Executing action ("

func summarize(raw []byte) (summary, error) {
	var events []event
	if err := json.Unmarshal(raw, &events); err != nil {
		return summary{}, fmt.Errorf("not a trace event array: %w", err)
	}
	type key struct {
		tid  int
		name string
	}
	open := map[key]float64{}
	var acts []action
	for _, e := range events {
		if !strings.HasPrefix(e.Name, prefix) || !strings.HasSuffix(e.Name, ")") {
			continue
		}
		k := key{e.TID, e.Name}
		switch e.Phase {
		case "B":
			open[k] = e.TS
		case "E":
			if start, ok := open[k]; ok {
				delete(open, k)
				kind, pkg := classify(strings.TrimSuffix(strings.TrimPrefix(e.Name, prefix), ")"))
				acts = append(acts, action{kind: kind, pkg: pkg, start: start / 1e6, end: e.TS / 1e6})
			}
		}
	}
	if len(acts) == 0 {
		return summary{}, fmt.Errorf("no executed actions in the trace")
	}
	t0, t1 := acts[0].start, acts[0].end
	for _, a := range acts {
		t0, t1 = min(t0, a.start), max(t1, a.end)
	}
	s := summary{wall: t1 - t0, byKind: map[string]float64{}}
	type edge struct {
		t     float64
		delta int
	}
	var edges []edge
	for i := range acts {
		acts[i].start -= t0
		acts[i].end -= t0
		a := acts[i]
		s.byKind[a.kind] += a.end - a.start
		edges = append(edges, edge{a.start, +1}, edge{a.end, -1})
	}
	// Ends before starts at the same instant: a slot handed on is not two.
	slices.SortFunc(edges, func(a, b edge) int { return cmp.Or(cmp.Compare(a.t, b.t), cmp.Compare(a.delta, b.delta)) })
	running, last := 0, 0.0
	for _, e := range edges {
		for len(s.busy) <= running {
			s.busy = append(s.busy, 0)
		}
		s.busy[running] += e.t - last
		running += e.delta
		last = e.t
		s.slots = max(s.slots, running)
	}
	s.actions = acts
	return s, nil
}

// classify splits "<mode> <target>" into a kind and, for a test run, its
// package: link, test run and vet as they are; every compile-side mode
// (build, build check cache, cgo ..., collect) as build; the rest (test
// print, test clean, the root go test) as other.
func classify(what string) (kind, pkg string) {
	for _, mode := range []string{"test run", "link", "vet"} {
		if rest, ok := strings.CutPrefix(what, mode+" "); ok {
			return mode, rest
		}
	}
	for _, mode := range []string{"build", "cgo", "collect"} {
		if strings.HasPrefix(what, mode+" ") {
			return "build", ""
		}
	}
	return "other", ""
}

func (s summary) total() float64 {
	t := 0.0
	for _, v := range s.byKind {
		t += v
	}
	return t
}

func (s summary) print(w io.Writer) {
	var kinds []string
	for _, k := range slices.Sorted(maps.Keys(s.byKind)) {
		kinds = append(kinds, fmt.Sprintf("%s %.1fs", k, s.byKind[k]))
	}
	fmt.Fprintf(w, "slot time %.1fs (%s) in %.1fs from the first action's start to the last one's end; at most %d at once: floor %.1fs\n",
		s.total(), strings.Join(kinds, ", "), s.wall, s.slots, s.total()/float64(max(1, s.slots)))
	var busy []string
	for k := len(s.busy) - 1; k >= 0; k-- {
		busy = append(busy, fmt.Sprintf("%d running %.1fs", k, s.busy[k]))
	}
	fmt.Fprintf(w, "  %s\n", strings.Join(busy, ", "))
	runs := slices.DeleteFunc(slices.Clone(s.actions), func(a action) bool { return a.kind != "test run" })
	slices.SortFunc(runs, func(a, b action) int { // longest first
		return cmp.Or(cmp.Compare(b.end-b.start, a.end-a.start), strings.Compare(a.pkg, b.pkg))
	})
	for _, r := range runs[:min(len(runs), 5)] {
		fmt.Fprintf(w, "  test run %-50s %5.1fs, from %5.1fs to %5.1fs\n", r.pkg, r.end-r.start, r.start, r.end)
	}
}
