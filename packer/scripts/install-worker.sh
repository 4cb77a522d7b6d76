#!/usr/bin/env bash
# Installs the worker binary built by `make worker` (uploaded by Packer) to
# $BOOT_WORKER_BINARY, root-owned 0755, and creates its state folder (0700,
# service user) and its config folder (0750, root:service group). The old AMI
# copied the worker into the image but never installed it (review blocker 7).
#
# Usage: install-worker.sh [--root DIR] [--no-chown] [--binary FILE]
#   --root DIR   install under DIR instead of / (tests)
#   --no-chown   skip ownership changes (unprivileged tests)
#   --binary F   the worker binary; default $WORKER_SRC
# Env (from bootcontract via local.boot_env): BOOT_WORKER_BINARY,
#   BOOT_WORKER_STATE_DIR, BOOT_WORKER_USER, BOOT_ENV_FILE
set -euo pipefail

root=/
chown_files=yes
src="${WORKER_SRC:-}"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --root) root="$2"; shift 2 ;;
    --no-chown) chown_files=no; shift ;;
    --binary) src="$2"; shift 2 ;;
    *) echo "install-worker.sh: unknown argument: $1" >&2; exit 2 ;;
  esac
done
: "${BOOT_WORKER_BINARY:?set by local.boot_env}"
: "${BOOT_WORKER_STATE_DIR:?set by local.boot_env}"
: "${BOOT_WORKER_USER:?set by local.boot_env}"
: "${BOOT_ENV_FILE:?set by local.boot_env}"

if [[ -z "$src" || ! -f "$src" || ! -s "$src" ]]; then
  echo "install-worker.sh: worker binary '${src}' is missing or empty (run make worker)" >&2
  exit 1
fi

prefix="${root%/}"
binary="${prefix}${BOOT_WORKER_BINARY}"
state_dir="${prefix}${BOOT_WORKER_STATE_DIR}"
config_dir="${prefix}$(dirname "$BOOT_ENV_FILE")"

root_owner=()
user_owner=()
group_owner=()
if [[ "$chown_files" == yes ]]; then
  # Numeric ids from the target root's passwd, so --root works without
  # touching the host's accounts.
  uid="$(awk -F: -v u="$BOOT_WORKER_USER" '$1 == u { print $3 }' "${prefix}/etc/passwd")"
  gid="$(awk -F: -v u="$BOOT_WORKER_USER" '$1 == u { print $4 }' "${prefix}/etc/passwd")"
  if [[ -z "$uid" || -z "$gid" ]]; then
    echo "install-worker.sh: user ${BOOT_WORKER_USER} not found in ${prefix}/etc/passwd (run create-service-user.sh)" >&2
    exit 1
  fi
  root_owner=(-o 0 -g 0)
  user_owner=(-o "$uid" -g "$gid")
  group_owner=(-o 0 -g "$gid")
fi

install -D -m 0755 "${root_owner[@]}" "$src" "$binary"
install -d -m 0700 "${user_owner[@]}" "$state_dir"
install -d -m 0750 "${group_owner[@]}" "$config_dir"
# install -d leaves an existing folder's mode alone on some versions: be explicit.
chmod 0700 "$state_dir"
chmod 0750 "$config_dir"
if [[ "$chown_files" == yes ]]; then
  chown "${uid}:${gid}" "$state_dir"
  chown "0:${gid}" "$config_dir"
fi
echo "installed worker to ${binary}"
