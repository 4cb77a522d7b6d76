#!/usr/bin/env bash
# Builds the GPU worker as the AMI ships it (make worker, then packer copies
# dist/worker-linux-amd64): a static binary with trimmed paths and no symbol
# table or DWARF. The worker's tests build it with this same command, so they
# run what ships. Usage: scripts/build-worker.sh GOARCH OUTPUT
set -euo pipefail
[[ $# -eq 2 ]] || { echo "usage: $0 GOARCH OUTPUT" >&2; exit 2; }
arch=$1
out=$(realpath -m -- "$2")
cd "$(dirname "$0")/.."
CGO_ENABLED=0 GOOS=linux GOARCH="$arch" exec "${GO:-go}" build -trimpath -ldflags "-s -w" -o "$out" ./worker/cmd/worker
