#!/usr/bin/env bash
# Bakes the fleet's active model bundle into the AMI with the worker's own
# `sync-bundle --bake` (the same code the boot-time sync runs): it reads the
# active_bundle pointer from SSM, refuses it unless it names BUNDLE_ID (before
# downloading anything), installs the bundle under $BOOT_COMFYUI_HOME and
# writes .active_bundle_id, .installed_bundle_paths and $BOOT_BAKED_BUNDLE_ID_FILE,
# so the first boot downloads nothing while the fleet's active bundle stays
# the same. An empty BUNDLE_ID bakes nothing. Needs the build instance
# profile to read the SSM parameter and the models bucket.
#
# Usage: bake-bundle.sh [--root DIR]
#   --root DIR  work on the tree under DIR (tests); the worker then runs as
#               the caller instead of the service user
# Env: BUNDLE_ID, MODELS_BUCKET, AWS_REGION, ACTIVE_BUNDLE_PARAM,
#   BOOT_WORKER_BINARY, BOOT_WORKER_USER, BOOT_COMFYUI_HOME,
#   BOOT_BAKED_BUNDLE_ID_FILE, BOOT_KEY_MODELS_BUCKET, BOOT_KEY_REGION,
#   BOOT_KEY_ACTIVE_BUNDLE_PARAM (from local.boot_env)
set -euo pipefail

root=/
while [[ $# -gt 0 ]]; do
  case "$1" in
    --root) root="$2"; shift 2 ;;
    *) echo "bake-bundle.sh: unknown argument: $1" >&2; exit 2 ;;
  esac
done
: "${BUNDLE_ID?}"
: "${BOOT_BAKED_BUNDLE_ID_FILE:?set by local.boot_env}"
prefix="${root%/}"
if [[ -z "$BUNDLE_ID" ]]; then
  rm -f "${prefix}${BOOT_BAKED_BUNDLE_ID_FILE}"
  echo "no bundle_id: nothing baked, the first boot syncs the active bundle"
  exit 0
fi
: "${MODELS_BUCKET:?}"
: "${AWS_REGION:?}"
: "${ACTIVE_BUNDLE_PARAM:?}"
: "${BOOT_WORKER_BINARY:?set by local.boot_env}"
: "${BOOT_WORKER_USER:?set by local.boot_env}"
: "${BOOT_COMFYUI_HOME:?set by local.boot_env}"
: "${BOOT_KEY_MODELS_BUCKET:?set by local.boot_env}"
: "${BOOT_KEY_REGION:?set by local.boot_env}"
: "${BOOT_KEY_ACTIVE_BUNDLE_PARAM:?set by local.boot_env}"

# As the service user, like comfyui-bundle-sync.service at boot, so the
# installed files belong to it and are only readable by ComfyUI's user.
run_as=()
if [[ "$root" == / ]]; then run_as=(runuser -u "$BOOT_WORKER_USER" --); fi
"${run_as[@]}" env \
  "${BOOT_KEY_MODELS_BUCKET}=${MODELS_BUCKET}" \
  "${BOOT_KEY_REGION}=${AWS_REGION}" \
  "${BOOT_KEY_ACTIVE_BUNDLE_PARAM}=${ACTIVE_BUNDLE_PARAM}" \
  "${prefix}${BOOT_WORKER_BINARY}" sync-bundle --root "${prefix}${BOOT_COMFYUI_HOME}" \
  --bake --expect-bundle-id "$BUNDLE_ID"
baked="$(cat "${prefix}${BOOT_BAKED_BUNDLE_ID_FILE}")"
if [[ "$baked" != "$BUNDLE_ID" ]]; then
  echo "bake-bundle.sh: ${BOOT_BAKED_BUNDLE_ID_FILE} holds '${baked}', not bundle_id '${BUNDLE_ID}'" >&2
  exit 1
fi
echo "baked bundle ${baked}"
