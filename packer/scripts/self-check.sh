#!/usr/bin/env bash
# Build-time self-check: fails the Packer build when the boot path the GpuFleet
# user data relies on is incomplete: worker binary, venv python, units, unit
# syntax (systemd-analyze verify), `worker check --offline`, the log folder,
# logrotate and the CloudWatch agent, and (on the GPU
# build instance) the pinned driver, CUDA and torch's view of the GPU.
# Every check runs; all failures are reported, then the script exits 1.
#
# Usage: self-check.sh [--root DIR] [--no-gpu]
#   --root DIR  check the tree under DIR instead of / (tests)
#   --no-gpu    skip driver, CUDA and torch checks (machines without a GPU)
# Env: BOOT_* (from local.boot_env); optional EXPECT_NVIDIA_DRIVER_BRANCH,
#   EXPECT_CUDA_VERSION, EXPECT_COMFYUI_REF, EXPECT_BUNDLE_ID
set -euo pipefail

root=/
gpu=yes
while [[ $# -gt 0 ]]; do
  case "$1" in
    --root) root="$2"; shift 2 ;;
    --no-gpu) gpu=no; shift ;;
    *) echo "self-check.sh: unknown argument: $1" >&2; exit 2 ;;
  esac
done
: "${BOOT_WORKER_BINARY:?set by local.boot_env}"
: "${BOOT_WORKER_USER:?set by local.boot_env}"
: "${BOOT_COMFYUI_HOME:?set by local.boot_env}"
: "${BOOT_COMFYUI_VENV:?set by local.boot_env}"
: "${BOOT_COMFYUI_PYTHON:?set by local.boot_env}"
: "${BOOT_BAKED_BUNDLE_ID_FILE:?set by local.boot_env}"
: "${BOOT_UNITS:?set by local.boot_env}"
: "${BOOT_LOG_DIR:?set by local.boot_env}"
: "${BOOT_CLOUDWATCH_AGENT_BINARY:?set by local.boot_env}"
: "${BOOT_CLOUDWATCH_AGENT_CTL:?set by local.boot_env}"

prefix="${root%/}"
unit_dir="${prefix}/etc/systemd/system"
read -r -a units <<<"$BOOT_UNITS"
failures=0
fail() {
  echo "SELF-CHECK FAIL: $*" >&2
  failures=$((failures + 1))
}
pass() { echo "self-check ok: $*"; }

# 1. Worker binary: installed, root-owned, 0755 (blocker 7).
worker="${prefix}${BOOT_WORKER_BINARY}"
if [[ -f "$worker" && -x "$worker" ]]; then
  perms="$(stat -c '%u %a' "$worker")"
  if [[ "$perms" == "0 755" ]]; then pass "worker binary ${BOOT_WORKER_BINARY}"; else fail "worker binary owner/mode is '${perms}', want '0 755'"; fi
else
  fail "worker binary ${BOOT_WORKER_BINARY} is missing or not executable"
fi

# 2. The venv python exists and really is the venv (not a system python).
python="${prefix}${BOOT_COMFYUI_PYTHON}"
if [[ -x "$python" ]]; then
  want_prefix="$(realpath -m "${prefix}${BOOT_COMFYUI_VENV}")"
  got_prefix="$("$python" -c 'import sys; print(sys.prefix)' 2>&1)" || got_prefix="(python failed: ${got_prefix})"
  if [[ "$(realpath -m "$got_prefix")" == "$want_prefix" ]]; then pass "venv python ${BOOT_COMFYUI_PYTHON}"; else fail "${BOOT_COMFYUI_PYTHON} has sys.prefix '${got_prefix}', want '${want_prefix}'"; fi
else
  fail "venv python ${BOOT_COMFYUI_PYTHON} is missing or not executable"
fi
if [[ -f "${prefix}${BOOT_COMFYUI_HOME}/main.py" ]]; then pass "ComfyUI main.py"; else fail "${BOOT_COMFYUI_HOME}/main.py is missing"; fi
if [[ -n "${EXPECT_COMFYUI_REF:-}" && "$EXPECT_COMFYUI_REF" =~ ^[0-9a-f]{40}$ ]]; then
  head="$(git -C "${prefix}${BOOT_COMFYUI_HOME}" rev-parse HEAD 2>/dev/null || true)"
  if [[ "$head" == "$EXPECT_COMFYUI_REF" ]]; then pass "ComfyUI at ${head}"; else fail "ComfyUI HEAD is '${head}', want ${EXPECT_COMFYUI_REF}"; fi
fi

# 3. Units: installed, ExecStart on the contract paths, not enabled (user data enables them).
units_present=yes
for unit in "${units[@]}"; do
  if [[ ! -f "${unit_dir}/${unit}" ]]; then
    fail "unit ${unit} is missing from /etc/systemd/system"
    units_present=no
    continue
  fi
  if compgen -G "${unit_dir}/*.wants/${unit}" >/dev/null; then
    fail "unit ${unit} is enabled in the AMI; the GpuFleet user data enables it after writing the env file"
  fi
done
comfyui_unit="${unit_dir}/${units[0]}"
if [[ -f "$comfyui_unit" ]]; then
  if grep -qx "ExecStart=${BOOT_COMFYUI_PYTHON} ${BOOT_COMFYUI_HOME}/main.py .*" "$comfyui_unit"; then
    pass "${units[0]} runs the venv python"
  else
    fail "${units[0]} does not run ${BOOT_COMFYUI_PYTHON} ${BOOT_COMFYUI_HOME}/main.py"
  fi
fi
for unit in "${units[@]:1}"; do
  if [[ -f "${unit_dir}/${unit}" ]] && ! grep -q "^ExecStart=${BOOT_WORKER_BINARY}\( \|$\)" "${unit_dir}/${unit}"; then
    fail "${unit} does not run ${BOOT_WORKER_BINARY}"
  fi
done

# 3b. Logs: every unit appends to the log folder, which the service user owns,
# logrotate rotates, and the CloudWatch agent (started by the user data) ships.
for unit in "${units[@]}"; do
  if [[ -f "${unit_dir}/${unit}" ]] && ! grep -q "^StandardOutput=append:${BOOT_LOG_DIR}/" "${unit_dir}/${unit}"; then
    fail "${unit} does not append its output to ${BOOT_LOG_DIR}"
  fi
done
log_dir="${prefix}${BOOT_LOG_DIR}"
if [[ -d "$log_dir" ]]; then
  want_uid="$(awk -F: -v u="$BOOT_WORKER_USER" '$1 == u { print $3 }' "${prefix}/etc/passwd" 2>/dev/null || true)"
  got_uid="$(stat -c '%u' "$log_dir")"
  if [[ -n "$want_uid" && "$got_uid" != "$want_uid" ]]; then
    fail "log folder ${BOOT_LOG_DIR} is owned by uid ${got_uid}, want ${BOOT_WORKER_USER} (${want_uid})"
  else
    pass "log folder ${BOOT_LOG_DIR}"
  fi
else
  fail "log folder ${BOOT_LOG_DIR} is missing"
fi
if grep -qs "^${BOOT_LOG_DIR}/" "${prefix}"/etc/logrotate.d/*; then pass "logrotate config for ${BOOT_LOG_DIR}"; else fail "no logrotate config in /etc/logrotate.d rotates ${BOOT_LOG_DIR}"; fi
for exe in "$BOOT_CLOUDWATCH_AGENT_BINARY" "$BOOT_CLOUDWATCH_AGENT_CTL"; do
  if [[ -x "${prefix}${exe}" ]]; then pass "CloudWatch agent ${exe}"; else fail "CloudWatch agent ${exe} is missing or not executable"; fi
done

# 4. systemd's own parser on the installed units (needs the ExecStart binaries).
if [[ "$units_present" == yes ]]; then
  verify=(systemd-analyze verify --man=no)
  if [[ "$root" != / ]]; then verify+=("--root=${root}"); fi
  if out="$("${verify[@]}" "${units[@]}" 2>&1)"; then
    pass "systemd-analyze verify ${units[*]}"
  else
    fail "systemd-analyze verify: ${out}"
  fi
fi

# 5. The worker's own offline check, as the service user on a live system.
if [[ -x "$worker" ]]; then
  run_as=()
  if [[ "$root" == / ]]; then run_as=(runuser -u "$BOOT_WORKER_USER" --); fi
  if out="$("${run_as[@]}" "$worker" check --offline 2>&1)"; then
    pass "worker check --offline"
  else
    fail "worker check --offline: ${out}"
  fi
fi

# 6. Baked bundle id, when one was baked.
if [[ -n "${EXPECT_BUNDLE_ID:-}" ]]; then
  baked="$(cat "${prefix}${BOOT_BAKED_BUNDLE_ID_FILE}" 2>/dev/null || true)"
  if [[ "$baked" == "$EXPECT_BUNDLE_ID" ]]; then pass "baked bundle ${baked}"; else fail "baked bundle id is '${baked}', want '${EXPECT_BUNDLE_ID}'"; fi
fi

# 7. GPU stack at the pinned versions, seen by the venv's torch.
if [[ "$gpu" == yes ]]; then
  driver="$(nvidia-smi --query-gpu=driver_version --format=csv,noheader 2>&1 | head -n1 || true)"
  if [[ "$driver" == "${EXPECT_NVIDIA_DRIVER_BRANCH:?}."* ]]; then pass "NVIDIA driver ${driver}"; else fail "NVIDIA driver is '${driver}', want branch ${EXPECT_NVIDIA_DRIVER_BRANCH}"; fi
  nvcc="$(/usr/local/cuda/bin/nvcc --version 2>&1 || true)"
  if grep -q "release ${EXPECT_CUDA_VERSION:?}," <<<"$nvcc"; then pass "CUDA ${EXPECT_CUDA_VERSION}"; else fail "nvcc does not report CUDA ${EXPECT_CUDA_VERSION}: ${nvcc}"; fi
  if out="$("$python" -c 'import torch; assert torch.cuda.is_available(), "torch sees no GPU"; print(torch.cuda.get_device_name(0))' 2>&1)"; then
    pass "torch sees ${out}"
  else
    fail "venv torch cannot use the GPU: ${out}"
  fi
fi

if ((failures > 0)); then
  echo "self-check: ${failures} failure(s)" >&2
  exit 1
fi
echo "self-check: all checks passed"
