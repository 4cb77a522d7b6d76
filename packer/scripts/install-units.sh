#!/usr/bin/env bash
# Installs the generated systemd units (packer/units, uploaded by Packer) into
# /etc/systemd/system. The units are NOT enabled here: the GpuFleet user data
# writes $BOOT_ENV_FILE and then runs
#   systemctl daemon-reload && systemctl enable --now $BOOT_UNITS
# The bundle-sync and worker units also carry ConditionPathExists=$BOOT_ENV_FILE,
# so a manual start before the env file exists is skipped, not failed.
#
# Usage: install-units.sh [--root DIR] [--units-src DIR]
#   --root DIR       install under DIR instead of / (tests)
#   --units-src DIR  folder holding the unit files; default $UNITS_SRC
# Env (from bootcontract via local.boot_env): BOOT_UNITS
set -euo pipefail

root=/
units_src="${UNITS_SRC:-}"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --root) root="$2"; shift 2 ;;
    --units-src) units_src="$2"; shift 2 ;;
    *) echo "install-units.sh: unknown argument: $1" >&2; exit 2 ;;
  esac
done
: "${BOOT_UNITS:?set by local.boot_env}"
if [[ -z "$units_src" || ! -d "$units_src" ]]; then
  echo "install-units.sh: units folder '${units_src}' is missing" >&2
  exit 1
fi

unit_dir="${root%/}/etc/systemd/system"
read -r -a units <<<"$BOOT_UNITS"
for unit in "${units[@]}"; do
  if [[ ! -f "${units_src}/${unit}" ]]; then
    echo "install-units.sh: unit ${unit} is missing from ${units_src}" >&2
    exit 1
  fi
  install -D -m 0644 "${units_src}/${unit}" "${unit_dir}/${unit}"
  echo "installed ${unit_dir}/${unit}"
done

# Only a live system has a systemd to reload; a --root tree does not.
if [[ "$root" == / && -d /run/systemd/system ]]; then
  systemctl daemon-reload
fi
