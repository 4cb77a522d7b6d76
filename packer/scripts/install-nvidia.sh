#!/usr/bin/env bash
# Installs the NVIDIA datacenter driver branch and the CUDA toolkit at the
# versions pinned by the Packer variables, then holds them (and the kernel the
# driver module was built for) so unattended upgrades cannot move them.
# A reboot provisioner follows this script; self-check.sh verifies the versions.
#
# Env: NVIDIA_DRIVER_BRANCH (e.g. 535), CUDA_VERSION (e.g. 12.2)
set -euo pipefail

: "${NVIDIA_DRIVER_BRANCH:?}"
: "${CUDA_VERSION:?}"
if [[ ! "$NVIDIA_DRIVER_BRANCH" =~ ^[0-9]{3}$ ]]; then
  echo "install-nvidia.sh: NVIDIA_DRIVER_BRANCH '${NVIDIA_DRIVER_BRANCH}' is not a driver branch like 535" >&2
  exit 1
fi
if [[ ! "$CUDA_VERSION" =~ ^[0-9]+\.[0-9]+$ ]]; then
  echo "install-nvidia.sh: CUDA_VERSION '${CUDA_VERSION}' is not major.minor like 12.2" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
apt_install() { apt-get install -y --no-install-recommends "$@"; }

apt-get update
apt_install ca-certificates curl gnupg build-essential dkms "linux-headers-$(uname -r)" linux-headers-aws

# Driver from the Ubuntu archive (signed, -server = datacenter branch, headless).
driver_packages=("nvidia-headless-${NVIDIA_DRIVER_BRANCH}-server" "nvidia-utils-${NVIDIA_DRIVER_BRANCH}-server")
apt_install "${driver_packages[@]}"

# CUDA toolkit from NVIDIA's repository; the toolkit package does not pull a driver.
keyring_deb=/tmp/cuda-keyring.deb
curl -fsSL --retry 5 -o "$keyring_deb" \
  https://developer.download.nvidia.com/compute/cuda/repos/ubuntu2204/x86_64/cuda-keyring_1.1-1_all.deb
dpkg -i "$keyring_deb"
rm -f "$keyring_deb"
apt-get update
cuda_package="cuda-toolkit-${CUDA_VERSION//./-}"
apt_install "$cuda_package"

cat >/etc/profile.d/cuda.sh <<PROFILE
export PATH=/usr/local/cuda-${CUDA_VERSION}/bin:\${PATH}
PROFILE
ln -sfn "/usr/local/cuda-${CUDA_VERSION}" /usr/local/cuda

apt-mark hold "${driver_packages[@]}" "$cuda_package" linux-aws linux-image-aws linux-headers-aws
if systemctl list-unit-files nvidia-persistenced.service >/dev/null 2>&1; then
  systemctl enable nvidia-persistenced.service
fi
echo "installed NVIDIA driver branch ${NVIDIA_DRIVER_BRANCH} and ${cuda_package}"
