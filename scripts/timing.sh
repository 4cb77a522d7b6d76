#!/usr/bin/env bash
# Measures the performance budgets of issue 13 with a warm build cache, on a
# quiet 2-core machine (the script prints the load average; above 1.5 the
# numbers say more about the neighbours than about the code):
#   - `go test -count=1 ./...`: median of whole runs <= 30 s;
#   - the synthesizing app: median <= 4x the median of a one-topic CDK app
#     (scripts/onetopic, same aws-cdk-go and jsii), both whole processes of
#     their built binaries run the way `cdk synth` runs the app (the
#     environment is captured from the CLI once: CDK_OUTDIR, CDK_CONTEXT_JSON,
#     ...), so neither the CLI nor `go run` is counted. Each app also runs
#     with CDK_VALIDATION=false: the difference, run by run, is the time of CDK's
#     built-in template validator, printed beside the ratio (its engine's
#     start is a fixed cost both apps pay, its passes grow with the
#     templates);
#   - the slot time of one more go test run, traced (scripts/slottime): the
#     floor of its wall time on this machine's -p slots.
# A script, not a timed test, so a busy machine cannot fail CI.
# Usage: scripts/timing.sh [synth runs]   (default 5 per app; TEST_RUNS=3 go test runs)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
test_runs=${TEST_RUNS:-3}
for n in "$runs" "$test_runs"; do
  [[ $n =~ ^[1-9][0-9]*$ ]] || { echo "usage: scripts/timing.sh [synth runs]; synth runs and TEST_RUNS are whole numbers from 1 (got '$n')" >&2; exit 2; }
done
export PATH="$PWD/.tools/node_modules/.bin:$PATH" JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION=1
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f\n", b - a }'; }
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) exit 1; print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }
load() { cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || uptime; }
failed() { # what, exit code, output file: print its failures, keep it, stop
  local kept="${TMPDIR:-/tmp}/timing-go-test-${1// /-}.out"
  cp "$3" "$kept"
  # head ends the pipe after 120 lines; the SIGPIPE that stops grep then must
  # not end the script (pipefail) before it says where the output is.
  { grep -E -B 15 '^(--- FAIL|FAIL|panic:)' "$kept" || tail -40 "$kept"; } | head -120 >&2 || true
  echo "go test $1 FAILED (exit $2); its whole output: $kept" >&2
  exit 1
}

echo "load average before: $(load)"
make -s tools >/dev/null
go build -o bin/infra .
go build -o bin/onetopic ./scripts/onetopic
go build -o bin/slottime ./scripts/slottime
go test -count=1 -run '^$' ./... >/dev/null # warm the test binaries

# The environment cdk synth gives the app, captured through the CLI itself
# (this is also the warm-up run: Lambda binaries, jsii's package cache).
cdk synth --quiet --output "$scratch/capture" --app "sh -c 'env -0 > $scratch/env; exec bin/infra'" >"$scratch/capture.log" 2>&1 ||
  { cat "$scratch/capture.log" >&2; exit 1; }
mapfile -d '' cdkenv < <(grep -z '^CDK_' "$scratch/env" | grep -zv -E '^CDK_(OUTDIR|ERROR_FILE|PERF_COUNTERS_FILE)=')
printf '%s\n' "${cdkenv[@]}" | grep -q '^CDK_CONTEXT_JSON=' || { echo "cdk passed no CDK_CONTEXT_JSON to the app" >&2; exit 1; }

# binary, run number, CDK_VALIDATION: true (CDK's default: aws-cdk-lib skips
# its validator only when process.env.CDK_VALIDATION === "false", whatever
# this shell exports) or false. Prints the seconds and keeps them in
# $scratch/<binary>-<true|false>.times.
run_app() {
  local out start end
  out="$scratch/$(basename "$1")-$2"
  start=$(now)
  env "${cdkenv[@]}" CDK_VALIDATION="$3" CDK_OUTDIR="$out" CDK_ERROR_FILE="$out/error.txt" CDK_PERF_COUNTERS_FILE="$out/performance-counters.json" \
    "$1" >/dev/null 2>"$scratch/app.err" || { cat "$scratch/app.err" >&2; echo "$1: run $2 FAILED" >&2; return 1; }
  end=$(now)
  rm -rf "$out"
  elapsed "$start" "$end" | tee -a "$scratch/$(basename "$1")-$3.times"
}

# Alternate the apps so a change of load hits all runs alike.
for i in $(seq "$runs"); do
  t1=$(run_app bin/onetopic "$i" true)
  t2=$(run_app bin/infra "$i" true)
  t3=$(run_app bin/onetopic "$i" false)
  t4=$(run_app bin/infra "$i" false)
  echo "synth run $i: one-topic app ${t1}s, this app ${t2}s; with CDK_VALIDATION=false ${t3}s and ${t4}s"
  # The validator's time within one run of each app, paired run by run.
  awk -v a="$t1" -v b="$t3" 'BEGIN { printf "%.2f\n", a - b }' >>"$scratch/onetopic-validator.times"
  awk -v a="$t2" -v b="$t4" 'BEGIN { printf "%.2f\n", a - b }' >>"$scratch/infra-validator.times"
done
awk -v o="$(median <"$scratch/onetopic-true.times")" -v a="$(median <"$scratch/infra-true.times")" \
  -v on="$(median <"$scratch/onetopic-false.times")" -v an="$(median <"$scratch/infra-false.times")" \
  -v ov="$(median <"$scratch/onetopic-validator.times")" -v av="$(median <"$scratch/infra-validator.times")" 'BEGIN {
  r = a / o
  printf "synth medians: one-topic app %.2fs, this app %.2fs: ratio %.2fx (budget 4x): %s\n", o, a, r, (r <= 4 ? "ok" : "OVER")
  printf "  CDK\047s built-in validator (each run less its CDK_VALIDATION=false run, median): one-topic app %.2fs, this app %.2fs\n", ov, av
  printf "  without it: one-topic app %.2fs, this app %.2fs: %.2fx\n", on, an, an / on }'

: >"$scratch/test.times"
for i in $(seq "$test_runs"); do
  # CPU beside wall: on 2 cores the run cannot take less than half its CPU.
  TIMEFORMAT='%R %U %S'
  # The group's stderr is the time file: a failure is reported after it.
  rc=0
  { time go test -count=1 ./... >"$scratch/test-$i.out" 2>&1 || rc=$?; } 2>"$scratch/test-$i.time"
  [ "$rc" -eq 0 ] || failed "run $i" "$rc" "$scratch/test-$i.out"
  read -r t user sys <"$scratch/test-$i.time"
  echo "go test ./... run $i: ${t}s (CPU $(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.1f", u + s }')s)"
  echo "$t" >>"$scratch/test.times"
done
med=$(median <"$scratch/test.times")
awk -v m="$med" 'BEGIN { printf "go test ./... median: %.2fs (budget 30s): %s\n", m, (m <= 30 ? "ok" : "OVER") }'
# One more run, traced, and not counted (writing the go command's trace, some
# 100,000 events, slows it a little): its slot time. Each link and test run
# holds one of the -p slots, sleeping or not, so their sum over the slots is
# the floor of the wall time.
rc=0
go test -count=1 -debug-trace="$scratch/trace.json" ./... >"$scratch/traced.out" 2>&1 || rc=$?
[ "$rc" -eq 0 ] || failed "traced run" "$rc" "$scratch/traced.out"
echo "slot time of one more go test run, traced:"
bin/slottime "$scratch/trace.json" | sed 's/^/  /'
echo "slowest packages (median of the test binaries' own times):"
for f in "$scratch"/test-*.out; do awk '$1 == "ok" && $3 ~ /s$/ { sub(/s$/, "", $3); print $2, $3 }' "$f"; done |
  sort -k1,1 -k2,2n | awk '
    { n[$1]++; v[$1, n[$1]] = $2 }
    END { for (p in n) { c = n[p]; m = (c % 2 ? v[p, (c + 1) / 2] : (v[p, c / 2] + v[p, c / 2 + 1]) / 2); printf "%8.2fs  %s\n", m, p } }' |
  sort -rn | head -5
echo "load average after: $(load)"
