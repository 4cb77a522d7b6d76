#!/usr/bin/env bash
# Measures the performance budgets of the foundation issue with a warm build
# cache: synthesizing every stage (budget 20 s) and `go test ./...` (budget
# 60 s). A script, not a timed test, so a busy machine cannot fail CI.
# Usage: scripts/timing.sh [runs]   (default 3; prints each run and the best)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
export PATH="$PWD/.tools/node_modules/.bin:$PATH" JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION=1

make -s tools >/dev/null
go build -o bin/infra . # warm: the CLI's `go run .` reuses this build cache
go test -count=1 -run '^$' ./... >/dev/null # warm the test binaries

measure() { # label, command...
  local label=$1 best=
  shift
  for i in $(seq "$runs"); do
    local start end
    start=$(date +%s.%N)
    "$@" >/dev/null 2>&1 || { echo "$label: run $i FAILED" >&2; return 1; }
    end=$(date +%s.%N)
    local secs
    secs=$(echo "$end - $start" | bc)
    echo "$label run $i: ${secs}s"
    if [ -z "$best" ] || (($(echo "$secs < $best" | bc))); then best=$secs; fi
  done
  echo "$label best: ${best}s"
}

measure "synth (all stages, cdk synth incl. template validation)" .tools/node_modules/.bin/cdk synth --quiet
measure "go test ./... (warm cache, -count=1)" go test -count=1 ./...
