#!/usr/bin/env bash
# Installs the Amazon CloudWatch agent at a pinned version from its official S3
# download (<base>/ubuntu/amd64/<version>/amazon-cloudwatch-agent.deb). The
# package is installed only when its detached signature verifies against
# Amazon's agent signing key with the pinned fingerprint, and its Version field
# is the pinned version. The agent is installed, not configured: the GpuFleet
# user data writes its config (the fleet's log group) and starts it.
#
# Usage: install-cloudwatch-agent.sh [--root DIR]
#   --root DIR  install with dpkg --root=DIR and check the tree under DIR (tests)
# Env: CLOUDWATCH_AGENT_VERSION (e.g. 1.300064.1b1344, never "latest"),
#   CLOUDWATCH_AGENT_BASE_URL, CLOUDWATCH_AGENT_KEY_FINGERPRINT (40 hex),
#   BOOT_CLOUDWATCH_AGENT_BINARY, BOOT_CLOUDWATCH_AGENT_CTL (from local.boot_env)
# Needs: curl, gpg, dpkg-deb, dpkg.
set -euo pipefail

root=/
while [[ $# -gt 0 ]]; do
  case "$1" in
    --root) root="$2"; shift 2 ;;
    *) echo "install-cloudwatch-agent.sh: unknown argument: $1" >&2; exit 2 ;;
  esac
done
: "${CLOUDWATCH_AGENT_VERSION:?}"
: "${CLOUDWATCH_AGENT_BASE_URL:?}"
: "${CLOUDWATCH_AGENT_KEY_FINGERPRINT:?}"
: "${BOOT_CLOUDWATCH_AGENT_BINARY:?set by local.boot_env}"
: "${BOOT_CLOUDWATCH_AGENT_CTL:?set by local.boot_env}"
version="$CLOUDWATCH_AGENT_VERSION"
if [[ ! "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+b[0-9]+$ ]]; then
  echo "install-cloudwatch-agent.sh: CLOUDWATCH_AGENT_VERSION '${version}' is not a pinned build like 1.300064.1b1344" >&2
  exit 1
fi
fingerprint="${CLOUDWATCH_AGENT_KEY_FINGERPRINT// /}"
fingerprint="${fingerprint^^}"
if [[ ! "$fingerprint" =~ ^[0-9A-F]{40}$ ]]; then
  echo "install-cloudwatch-agent.sh: CLOUDWATCH_AGENT_KEY_FINGERPRINT is not a 40-hex fingerprint" >&2
  exit 1
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
deb="${work}/amazon-cloudwatch-agent.deb"
base="${CLOUDWATCH_AGENT_BASE_URL%/}"
fetch() { curl -fsSL --retry 5 -o "$2" "$1"; }
fetch "${base}/ubuntu/amd64/${version}/amazon-cloudwatch-agent.deb" "$deb"
fetch "${base}/ubuntu/amd64/${version}/amazon-cloudwatch-agent.deb.sig" "${deb}.sig"
fetch "${base}/assets/amazon-cloudwatch-agent.gpg" "${work}/agent-key.gpg"

# A throwaway keyring: the downloaded key counts only through its fingerprint.
export GNUPGHOME="${work}/gnupg"
install -d -m 0700 "$GNUPGHOME"
gpg --batch --quiet --import "${work}/agent-key.gpg" 2>/dev/null
status="$(gpg --batch --status-fd 1 --verify "${deb}.sig" "$deb" 2>/dev/null || true)"
# VALIDSIG <signing key fpr> ... <primary key fpr>: either may be the pinned one.
if ! awk -v fpr="$fingerprint" '$2 == "VALIDSIG" && ($3 == fpr || $NF == fpr) { ok = 1 } END { exit !ok }' <<<"$status"; then
  echo "install-cloudwatch-agent.sh: the signature of amazon-cloudwatch-agent.deb ${version} does not verify with key ${fingerprint}" >&2
  exit 1
fi
deb_version="$(dpkg-deb -f "$deb" Version)"
if [[ "$deb_version" != "$version" && "$deb_version" != "${version}-"* ]]; then
  echo "install-cloudwatch-agent.sh: the package is version '${deb_version}', want ${version}" >&2
  exit 1
fi

dpkg_args=(-i)
if [[ "$root" != / ]]; then dpkg_args=("--root=${root}" -i); fi
dpkg "${dpkg_args[@]}" "$deb"
prefix="${root%/}"
for exe in "$BOOT_CLOUDWATCH_AGENT_BINARY" "$BOOT_CLOUDWATCH_AGENT_CTL"; do
  if [[ ! -x "${prefix}${exe}" ]]; then
    echo "install-cloudwatch-agent.sh: ${exe} is missing after installing the package" >&2
    exit 1
  fi
done
echo "installed amazon-cloudwatch-agent ${deb_version}"
