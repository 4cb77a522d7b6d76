#!/usr/bin/env bash
# Installs the generated IMDS block (packer/firewall, uploaded by Packer) as
# $BOOT_IMDS_BLOCK_SCRIPT, root 0755. comfyui-imds-block.service runs it at
# every boot before ComfyUI, which requires that unit: the owner-match rule
# refuses the metadata service to $BOOT_COMFYUI_USER only. On the build
# instance it also makes sure iptables is installed.
#
# Usage: install-imds-block.sh [--root DIR] [--no-chown] [--script FILE]
#   --root DIR     install under DIR instead of / (tests)
#   --no-chown     skip ownership changes (unprivileged tests)
#   --script FILE  the generated script; default $IMDS_BLOCK_SRC
# Env (from bootcontract via local.boot_env): BOOT_IMDS_BLOCK_SCRIPT
set -euo pipefail

root=/
chown_files=yes
src="${IMDS_BLOCK_SRC:-}"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --root) root="$2"; shift 2 ;;
    --no-chown) chown_files=no; shift ;;
    --script) src="$2"; shift 2 ;;
    *) echo "install-imds-block.sh: unknown argument: $1" >&2; exit 2 ;;
  esac
done
: "${BOOT_IMDS_BLOCK_SCRIPT:?set by local.boot_env}"
if [[ -z "$src" || ! -s "$src" ]]; then
  echo "install-imds-block.sh: IMDS block script '${src}' is missing or empty" >&2
  exit 1
fi

if [[ "$root" == / ]] && ! command -v iptables >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y --no-install-recommends iptables
fi
target="${root%/}${BOOT_IMDS_BLOCK_SCRIPT}"
owner=()
if [[ "$chown_files" == yes ]]; then owner=(-o 0 -g 0); fi
install -D -m 0755 "${owner[@]}" "$src" "$target"
echo "installed ${target}"
