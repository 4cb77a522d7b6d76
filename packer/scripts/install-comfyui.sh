#!/usr/bin/env bash
# Installs ComfyUI at a pinned git ref into $BOOT_COMFYUI_HOME with its own
# venv at $BOOT_COMFYUI_VENV; every Python package goes in with the venv's own
# pip, so comfyui.service (which runs $BOOT_COMFYUI_PYTHON) finds its deps.
# Everything stays root-owned here; set-comfyui-owners.sh (the next step)
# hands models/ and custom_nodes/ to the worker user and the folders ComfyUI
# writes to ComfyUI's user.
#
# Env: COMFYUI_REPO, COMFYUI_REF (40-hex commit or vX.Y.Z tag), TORCH_INDEX_URL,
#   BOOT_COMFYUI_HOME, BOOT_COMFYUI_VENV, BOOT_COMFYUI_PYTHON,
#   (from local.boot_env)
set -euo pipefail

: "${COMFYUI_REPO:?}"
: "${COMFYUI_REF:?}"
: "${TORCH_INDEX_URL:?}"
: "${BOOT_COMFYUI_HOME:?set by local.boot_env}"
: "${BOOT_COMFYUI_VENV:?set by local.boot_env}"
: "${BOOT_COMFYUI_PYTHON:?set by local.boot_env}"
if [[ ! "$COMFYUI_REF" =~ ^([0-9a-f]{40}|v[0-9]+\.[0-9]+\.[0-9]+)$ ]]; then
  echo "install-comfyui.sh: COMFYUI_REF '${COMFYUI_REF}' is not a full commit sha or a vX.Y.Z tag" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends git python3-venv python3-dev build-essential

# Fetch exactly the pinned ref (GitHub serves a commit by sha), nothing else.
install -d -m 0755 "$BOOT_COMFYUI_HOME"
git -C "$BOOT_COMFYUI_HOME" init -q
git -C "$BOOT_COMFYUI_HOME" remote add origin "$COMFYUI_REPO"
git -C "$BOOT_COMFYUI_HOME" fetch -q --depth 1 origin "$COMFYUI_REF"
git -C "$BOOT_COMFYUI_HOME" -c advice.detachedHead=false checkout -q --detach FETCH_HEAD
head="$(git -C "$BOOT_COMFYUI_HOME" rev-parse HEAD)"
if [[ "$COMFYUI_REF" =~ ^[0-9a-f]{40}$ && "$head" != "$COMFYUI_REF" ]]; then
  echo "install-comfyui.sh: checked out ${head}, expected ${COMFYUI_REF}" >&2
  exit 1
fi

python3 -m venv "$BOOT_COMFYUI_VENV"
pip="${BOOT_COMFYUI_VENV}/bin/pip"
"$pip" install --no-cache-dir --upgrade pip wheel
# CUDA builds of torch first, so requirements.txt finds them already satisfied.
"$pip" install --no-cache-dir --index-url "$TORCH_INDEX_URL" torch torchvision torchaudio
"$pip" install --no-cache-dir -r "${BOOT_COMFYUI_HOME}/requirements.txt"
"$BOOT_COMFYUI_PYTHON" -c 'import torch, sys; print("torch", torch.__version__, "cuda", torch.version.cuda, "python", sys.version.split()[0])'

echo "installed ComfyUI ${head} with venv ${BOOT_COMFYUI_VENV}"
