#!/usr/bin/env bash
# Publishes the AMI id of the last Packer run to the SSM parameter the GpuFleet
# stack reads (/<app>/ami/fleets/<stage>/<slug>, system-facts section 1).
# The parameter name and region come from the manifest post-processor's
# custom_data, so they are the values the build itself used.
#
# Usage: publish-ami-id.sh [--manifest FILE] [--dry-run]
#   --manifest FILE  Packer manifest; default packer/manifest.json
#   --dry-run        print the aws command instead of running it
# Needs: jq, the aws CLI and credentials allowed ssm:PutParameter on the name.
set -euo pipefail

manifest=packer/manifest.json
dry_run=no
while [[ $# -gt 0 ]]; do
  case "$1" in
    --manifest) manifest="$2"; shift 2 ;;
    --dry-run) dry_run=yes; shift ;;
    *) echo "publish-ami-id.sh: unknown argument: $1" >&2; exit 2 ;;
  esac
done
if [[ ! -f "$manifest" ]]; then
  echo "publish-ami-id.sh: manifest ${manifest} not found (run packer build first)" >&2
  exit 1
fi

# The manifest accumulates builds; take the one from the last run.
build="$(jq -ce '.last_run_uuid as $run | [.builds[] | select(.packer_run_uuid == $run)] | last // empty' "$manifest")" || {
  echo "publish-ami-id.sh: no build of the last run in ${manifest}" >&2
  exit 1
}
artifact="$(jq -r '.artifact_id // ""' <<<"$build")"
param="$(jq -r '.custom_data.ssm_parameter // ""' <<<"$build")"
region="${artifact%%:*}"
ami="${artifact#*:}"

if [[ ! "$artifact" =~ ^[a-z0-9-]+:ami-[0-9a-f]{8,17}$ ]]; then
  echo "publish-ami-id.sh: artifact_id '${artifact}' is not <region>:ami-<id> (one region per build)" >&2
  exit 1
fi
if [[ ! "$param" =~ ^/[a-z0-9-]+/ami/fleets/(staging|production)/[a-z0-9-]+$ ]]; then
  echo "publish-ami-id.sh: custom_data.ssm_parameter '${param}' is not /<app>/ami/fleets/<stage>/<slug>" >&2
  exit 1
fi

cmd=(aws ssm put-parameter --region "$region" --name "$param" --value "$ami"
  --type String --data-type aws:ec2:image --overwrite)
if [[ "$dry_run" == yes ]]; then
  printf '%q ' "${cmd[@]}"
  printf '\n'
  exit 0
fi
"${cmd[@]}"
echo "published ${ami} to ${param} in ${region}"
