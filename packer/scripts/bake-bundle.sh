#!/usr/bin/env bash
# Bakes the fleet's active model bundle into the AMI with the worker's own
# `sync-bundle` (one implementation of the manifest format). The worker reads
# the active bundle id from SSM, applies it under the models folder and records
# it in $BOOT_BAKED_BUNDLE_ID_FILE, so the boot-time sync is skipped while the
# fleet's active bundle stays the same. The build fails when the active bundle
# is not BUNDLE_ID (self-check.sh compares the recorded id), so an AMI never
# bakes a bundle nobody asked for. An empty BUNDLE_ID bakes nothing.
# Needs the build instance profile to read the SSM parameter and the bucket.
#
# Env: BUNDLE_ID, MODELS_BUCKET, AWS_REGION, ACTIVE_BUNDLE_PARAM,
#   BOOT_WORKER_BINARY, BOOT_WORKER_USER, BOOT_BAKED_BUNDLE_ID_FILE,
#   BOOT_KEY_MODELS_BUCKET, BOOT_KEY_REGION, BOOT_KEY_ACTIVE_BUNDLE_PARAM
set -euo pipefail

: "${BUNDLE_ID?}"
: "${BOOT_BAKED_BUNDLE_ID_FILE:?set by local.boot_env}"
if [[ -z "$BUNDLE_ID" ]]; then
  rm -f "$BOOT_BAKED_BUNDLE_ID_FILE"
  echo "no bundle_id: nothing baked, the first boot syncs the active bundle"
  exit 0
fi
: "${MODELS_BUCKET:?}"
: "${AWS_REGION:?}"
: "${ACTIVE_BUNDLE_PARAM:?}"
: "${BOOT_WORKER_BINARY:?set by local.boot_env}"
: "${BOOT_WORKER_USER:?set by local.boot_env}"
: "${BOOT_KEY_MODELS_BUCKET:?set by local.boot_env}"
: "${BOOT_KEY_REGION:?set by local.boot_env}"
: "${BOOT_KEY_ACTIVE_BUNDLE_PARAM:?set by local.boot_env}"

# As the service user, like comfyui-bundle-sync.service at boot, so the files
# and the recorded id belong to it.
runuser -u "$BOOT_WORKER_USER" -- env \
  "${BOOT_KEY_MODELS_BUCKET}=${MODELS_BUCKET}" \
  "${BOOT_KEY_REGION}=${AWS_REGION}" \
  "${BOOT_KEY_ACTIVE_BUNDLE_PARAM}=${ACTIVE_BUNDLE_PARAM}" \
  "$BOOT_WORKER_BINARY" sync-bundle
baked="$(cat "$BOOT_BAKED_BUNDLE_ID_FILE")"
if [[ "$baked" != "$BUNDLE_ID" ]]; then
  echo "bake-bundle.sh: the active bundle of ${ACTIVE_BUNDLE_PARAM} is '${baked}', not bundle_id '${BUNDLE_ID}'" >&2
  exit 1
fi
echo "baked bundle ${baked}"
