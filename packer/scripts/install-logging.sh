#!/usr/bin/env bash
# Prepares the unit log files the CloudWatch agent ships: creates the log
# folder (0750, service user; the units append stdout/stderr there) and
# installs the generated logrotate config (packer/logrotate, uploaded by
# Packer) as /etc/logrotate.d/<name>, root 0644. Idempotent.
#
# Usage: install-logging.sh [--root DIR] [--no-chown] [--logrotate FILE]
#   --root DIR        install under DIR instead of / (tests)
#   --no-chown        skip ownership changes (unprivileged tests)
#   --logrotate FILE  the logrotate config; default $LOGROTATE_SRC
# Env (from bootcontract via local.boot_env): BOOT_LOG_DIR, BOOT_WORKER_USER
set -euo pipefail

root=/
chown_files=yes
src="${LOGROTATE_SRC:-}"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --root) root="$2"; shift 2 ;;
    --no-chown) chown_files=no; shift ;;
    --logrotate) src="$2"; shift 2 ;;
    *) echo "install-logging.sh: unknown argument: $1" >&2; exit 2 ;;
  esac
done
: "${BOOT_LOG_DIR:?set by local.boot_env}"
: "${BOOT_WORKER_USER:?set by local.boot_env}"
if [[ -z "$src" || ! -s "$src" ]]; then
  echo "install-logging.sh: logrotate config '${src}' is missing or empty" >&2
  exit 1
fi

prefix="${root%/}"
log_dir="${prefix}${BOOT_LOG_DIR}"
install -d -m 0750 "$log_dir"
chmod 0750 "$log_dir"
if [[ "$chown_files" == yes ]]; then
  # Numeric ids from the target root's passwd, as install-worker.sh does.
  ids="$(awk -F: -v u="$BOOT_WORKER_USER" '$1 == u { print $3 ":" $4 }' "${prefix}/etc/passwd")"
  if [[ -z "$ids" ]]; then
    echo "install-logging.sh: user ${BOOT_WORKER_USER} not found in ${prefix}/etc/passwd (run create-service-user.sh)" >&2
    exit 1
  fi
  chown "$ids" "$log_dir"
fi

# logrotate skips configs that are not root-owned or are group/world writable.
target="${prefix}/etc/logrotate.d/$(basename "$src")"
install -D -m 0644 "$src" "$target"
if [[ "$chown_files" == yes ]]; then chown 0:0 "$target"; fi
echo "created ${log_dir} and installed ${target}"
