#!/usr/bin/env bash
# Sets who may write what in the ComfyUI tree that install-comfyui.sh left
# (all root-owned), so ComfyUI's user can run it but not change it:
#   $BOOT_COMFYUI_HOME                  root:$BOOT_WORKER_USER 1775: code and venv
#                                       stay root's; the bundle sync (worker user)
#                                       may add its state files and staging folder
#                                       there, the sticky bit keeps it from
#                                       touching anything else
#   models/, custom_nodes/ (recursive)  $BOOT_WORKER_USER, folders 0755, files
#                                       0644: the bundle sync writes them, ComfyUI
#                                       only reads them, so a workflow cannot
#                                       plant code the next start would load
#   $BOOT_COMFYUI_WRITABLE_DIRS         $BOOT_COMFYUI_USER 0750: the only folders
#                                       ComfyUI writes (its unit allows no others)
# Idempotent.
#
# Usage: set-comfyui-owners.sh [--root DIR] [--no-chown]
#   --root DIR   work on the tree under DIR (tests)
#   --no-chown   skip ownership changes (unprivileged tests)
# Env (from bootcontract via local.boot_env): BOOT_COMFYUI_HOME,
#   BOOT_COMFYUI_MODELS_DIR, BOOT_COMFYUI_CUSTOM_NODES_DIR,
#   BOOT_COMFYUI_WRITABLE_DIRS, BOOT_WORKER_USER, BOOT_COMFYUI_USER
set -euo pipefail

root=/
chown_files=yes
while [[ $# -gt 0 ]]; do
  case "$1" in
    --root) root="$2"; shift 2 ;;
    --no-chown) chown_files=no; shift ;;
    *) echo "set-comfyui-owners.sh: unknown argument: $1" >&2; exit 2 ;;
  esac
done
: "${BOOT_COMFYUI_HOME:?set by local.boot_env}"
: "${BOOT_COMFYUI_MODELS_DIR:?set by local.boot_env}"
: "${BOOT_COMFYUI_CUSTOM_NODES_DIR:?set by local.boot_env}"
: "${BOOT_COMFYUI_WRITABLE_DIRS:?set by local.boot_env}"
: "${BOOT_WORKER_USER:?set by local.boot_env}"
: "${BOOT_COMFYUI_USER:?set by local.boot_env}"

prefix="${root%/}"
home="${prefix}${BOOT_COMFYUI_HOME}"
if [[ ! -d "$home" ]]; then
  echo "set-comfyui-owners.sh: ${BOOT_COMFYUI_HOME} is missing (run install-comfyui.sh)" >&2
  exit 1
fi

# ids NAME: uid:gid from the target root's passwd, so --root never touches
# the host's accounts.
ids() {
  local found
  found="$(awk -F: -v u="$1" '$1 == u { print $3 ":" $4 }' "${prefix}/etc/passwd")"
  if [[ -z "$found" ]]; then
    echo "set-comfyui-owners.sh: user $1 not found in ${prefix}/etc/passwd (run create-service-user.sh)" >&2
    exit 1
  fi
  echo "$found"
}
if [[ "$chown_files" == yes ]]; then
  worker_ids="$(ids "$BOOT_WORKER_USER")"
  comfyui_ids="$(ids "$BOOT_COMFYUI_USER")"
fi

for dir in "$BOOT_COMFYUI_MODELS_DIR" "$BOOT_COMFYUI_CUSTOM_NODES_DIR"; do
  install -d -m 0755 "${prefix}${dir}"
  chmod -R u=rwX,go=rX "${prefix}${dir}"
  if [[ "$chown_files" == yes ]]; then chown -R "$worker_ids" "${prefix}${dir}"; fi
done
read -r -a writable <<<"$BOOT_COMFYUI_WRITABLE_DIRS"
for dir in "${writable[@]}"; do
  install -d -m 0750 "${prefix}${dir}"
  chmod 0750 "${prefix}${dir}"
  if [[ "$chown_files" == yes ]]; then chown -R "$comfyui_ids" "${prefix}${dir}"; fi
done
chmod 1775 "$home"
if [[ "$chown_files" == yes ]]; then chown "0:${worker_ids#*:}" "$home"; fi
echo "set owners of ${home}: models and custom nodes ${BOOT_WORKER_USER}, ${writable[*]} ${BOOT_COMFYUI_USER}"
