#!/usr/bin/env bash
# Bakes a model bundle into the AMI with the worker's own sync code (one
# implementation of the manifest format), then records its id in
# $BOOT_BAKED_BUNDLE_ID_FILE so the boot-time sync is skipped while the fleet's
# active bundle equals it. An empty BUNDLE_ID bakes nothing.
# Needs the build instance profile to read the models bucket.
#
# Env: BUNDLE_ID, MODELS_BUCKET, AWS_REGION, BOOT_WORKER_BINARY, BOOT_WORKER_USER,
#   BOOT_BAKED_BUNDLE_ID_FILE, BOOT_KEY_MODELS_BUCKET, BOOT_KEY_REGION
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
: "${BOOT_WORKER_BINARY:?set by local.boot_env}"
: "${BOOT_WORKER_USER:?set by local.boot_env}"
: "${BOOT_KEY_MODELS_BUCKET:?set by local.boot_env}"
: "${BOOT_KEY_REGION:?set by local.boot_env}"
if [[ ! "$BUNDLE_ID" =~ ^[A-Za-z0-9._-]+$ ]]; then
  echo "bake-bundle.sh: BUNDLE_ID '${BUNDLE_ID}' has characters outside [A-Za-z0-9._-]" >&2
  exit 1
fi

runuser -u "$BOOT_WORKER_USER" -- env \
  "${BOOT_KEY_MODELS_BUCKET}=${MODELS_BUCKET}" "${BOOT_KEY_REGION}=${AWS_REGION}" \
  "$BOOT_WORKER_BINARY" sync-bundle --bundle-id "$BUNDLE_ID"
printf '%s\n' "$BUNDLE_ID" >"$BOOT_BAKED_BUNDLE_ID_FILE"
chmod 0644 "$BOOT_BAKED_BUNDLE_ID_FILE"
echo "baked bundle ${BUNDLE_ID}"
