#!/usr/bin/env bash
# Creates the two system accounts, each in its own group, no login shell:
#   $BOOT_WORKER_USER   runs the worker and the bundle sync; home is the
#                       worker state folder (created by install-worker.sh)
#   $BOOT_COMFYUI_USER  runs ComfyUI (arbitrary workflows and custom nodes);
#                       home is its cache folder. It is in no group of the
#                       worker's, so the worker's env file, state folder and
#                       token stay unreadable to it.
# Idempotent.
#
# Usage: create-service-user.sh [--root DIR]
#   --root DIR  operate on the passwd/group files under DIR (tests); default /
# Env (from bootcontract via local.boot_env): BOOT_WORKER_USER,
#   BOOT_WORKER_STATE_DIR, BOOT_COMFYUI_USER, BOOT_COMFYUI_STATE_HOME
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
: "${BOOT_COMFYUI_USER:?set by local.boot_env}"
: "${BOOT_COMFYUI_STATE_HOME:?set by local.boot_env}"
if [[ "$BOOT_WORKER_USER" == "$BOOT_COMFYUI_USER" ]]; then
  echo "create-service-user.sh: the worker and ComfyUI must not share the user ${BOOT_WORKER_USER}" >&2
  exit 1
fi

# create_user NAME HOME
create_user() {
  local name="$1" home="$2"
  if grep -q "^${name}:" "${root%/}/etc/passwd"; then
    echo "user ${name} already exists"
    return
  fi
  local args=(--system --user-group --no-create-home --home-dir "$home" --shell /usr/sbin/nologin)
  if [[ "$root" != / ]]; then
    args+=(--root "$root")
  fi
  useradd "${args[@]}" "$name"
  echo "created system user ${name}"
}

create_user "$BOOT_WORKER_USER" "$BOOT_WORKER_STATE_DIR"
create_user "$BOOT_COMFYUI_USER" "$BOOT_COMFYUI_STATE_HOME"
