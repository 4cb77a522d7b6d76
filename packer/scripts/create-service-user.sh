#!/usr/bin/env bash
# Creates the system account that runs ComfyUI and the worker: no login shell,
# home in the worker state folder (created by install-worker.sh). Idempotent.
#
# Usage: create-service-user.sh [--root DIR]
#   --root DIR  operate on the passwd/group files under DIR (tests); default /
# Env (from bootcontract via local.boot_env): BOOT_WORKER_USER, BOOT_WORKER_STATE_DIR
set -euo pipefail

root=/
while [[ $# -gt 0 ]]; do
  case "$1" in
    --root) root="$2"; shift 2 ;;
    *) echo "create-service-user.sh: unknown argument: $1" >&2; exit 2 ;;
  esac
done
: "${BOOT_WORKER_USER:?set by local.boot_env}"
: "${BOOT_WORKER_STATE_DIR:?set by local.boot_env}"

if grep -q "^${BOOT_WORKER_USER}:" "${root%/}/etc/passwd"; then
  echo "user ${BOOT_WORKER_USER} already exists"
  exit 0
fi

args=(--system --user-group --no-create-home
  --home-dir "$BOOT_WORKER_STATE_DIR" --shell /usr/sbin/nologin)
if [[ "$root" != / ]]; then
  args+=(--root "$root")
fi
useradd "${args[@]}" "$BOOT_WORKER_USER"
echo "created system user ${BOOT_WORKER_USER}"
