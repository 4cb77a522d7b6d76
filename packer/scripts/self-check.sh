#!/usr/bin/env bash
# Build-time self-check: fails the Packer build when the boot path the GpuFleet
# user data relies on is incomplete: worker binary, venv python, units, unit
# syntax (systemd-analyze verify), `worker check --offline`, the log folder,
# logrotate and the CloudWatch agent, ComfyUI's separation from the worker
# (own user, IMDS block, the worker's folders closed to it), and (on the GPU
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
: "${BOOT_WORKER_STATE_DIR:?set by local.boot_env}"
: "${BOOT_ENV_FILE:?set by local.boot_env}"
: "${BOOT_COMFYUI_USER:?set by local.boot_env}"
: "${BOOT_COMFYUI_UNIT:?set by local.boot_env}"
: "${BOOT_IMDS_BLOCK_UNIT:?set by local.boot_env}"
: "${BOOT_IMDS_BLOCK_SCRIPT:?set by local.boot_env}"
: "${BOOT_IMDS_ADDRESSES:?set by local.boot_env}"
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
comfyui_unit="${unit_dir}/${BOOT_COMFYUI_UNIT}"
if [[ -f "$comfyui_unit" ]]; then
  if grep -qx "ExecStart=${BOOT_COMFYUI_PYTHON} ${BOOT_COMFYUI_HOME}/main.py .*" "$comfyui_unit"; then
    pass "${BOOT_COMFYUI_UNIT} runs the venv python"
  else
    fail "${BOOT_COMFYUI_UNIT} does not run ${BOOT_COMFYUI_PYTHON} ${BOOT_COMFYUI_HOME}/main.py"
  fi
fi
for unit in "${units[@]}"; do
  case "$unit" in
    "$BOOT_COMFYUI_UNIT") want_exec="$BOOT_COMFYUI_PYTHON" want_user="$BOOT_COMFYUI_USER" ;;
    "$BOOT_IMDS_BLOCK_UNIT") want_exec="$BOOT_IMDS_BLOCK_SCRIPT" want_user="" ;;
    *) want_exec="$BOOT_WORKER_BINARY" want_user="$BOOT_WORKER_USER" ;;
  esac
  [[ -f "${unit_dir}/${unit}" ]] || continue
  if ! grep -q "^ExecStart=${want_exec}\( \|$\)" "${unit_dir}/${unit}"; then
    fail "${unit} does not run ${want_exec}"
  fi
  got_user="$(sed -n 's/^User=//p' "${unit_dir}/${unit}")"
  if [[ "$got_user" != "$want_user" ]]; then
    fail "${unit} runs as '${got_user}', want '${want_user:-root}'"
  fi
done

# 3a. ComfyUI kept away from the worker's credentials: its own user in no
# group of the worker's, the worker's folders closed to it, the IMDS block
# installed and required by ComfyUI's unit.
passwd="${prefix}/etc/passwd"
worker_uid="$(awk -F: -v u="$BOOT_WORKER_USER" '$1 == u { print $3 }' "$passwd" 2>/dev/null || true)"
worker_gid="$(awk -F: -v u="$BOOT_WORKER_USER" '$1 == u { print $4 }' "$passwd" 2>/dev/null || true)"
comfyui_uid="$(awk -F: -v u="$BOOT_COMFYUI_USER" '$1 == u { print $3 }' "$passwd" 2>/dev/null || true)"
comfyui_gid="$(awk -F: -v u="$BOOT_COMFYUI_USER" '$1 == u { print $4 }' "$passwd" 2>/dev/null || true)"
worker_groups_of_comfyui="$(awk -F: -v u="$BOOT_COMFYUI_USER" -v g="$worker_gid" '$3 == g && ("," $4 ",") ~ ("," u ",") { print $1 }' "${prefix}/etc/group" 2>/dev/null || true)"
if [[ -z "$worker_uid" || -z "$comfyui_uid" ]]; then
  fail "users ${BOOT_WORKER_USER} and ${BOOT_COMFYUI_USER} must both exist"
elif [[ "$worker_uid" == "$comfyui_uid" || "$worker_gid" == "$comfyui_gid" || -n "$worker_groups_of_comfyui" ]]; then
  fail "${BOOT_COMFYUI_USER} shares a uid or group with ${BOOT_WORKER_USER}"
else
  pass "${BOOT_COMFYUI_USER} and ${BOOT_WORKER_USER} are separate users"
fi
for want in "$(dirname "$BOOT_ENV_FILE") 750 0 ${worker_gid}" "${BOOT_WORKER_STATE_DIR} 700 ${worker_uid} ${worker_gid}"; do
  read -r dir mode uid gid <<<"$want"
  got="$(stat -c '%a %u %g' "${prefix}${dir}" 2>/dev/null || echo missing)"
  if [[ "$got" == "${mode} ${uid} ${gid}" ]]; then pass "${dir} closed to ${BOOT_COMFYUI_USER}"; else fail "${dir} is '${got}', want '${mode} ${uid} ${gid}' (mode uid gid)"; fi
done
block="${prefix}${BOOT_IMDS_BLOCK_SCRIPT}"
if [[ -f "$block" && "$(stat -c '%u %a' "$block")" == "0 755" ]]; then
  block_ok=yes
  for address in $BOOT_IMDS_ADDRESSES; do
    if ! grep -q -- "-m owner --uid-owner ${BOOT_COMFYUI_USER} -d \"\$address\" -j REJECT" "$block" || ! grep -q "block ip6\?tables ${address}$" "$block"; then
      fail "${BOOT_IMDS_BLOCK_SCRIPT} does not refuse ${address} to ${BOOT_COMFYUI_USER}"
      block_ok=no
    fi
  done
  if [[ "$block_ok" == yes ]]; then pass "IMDS block ${BOOT_IMDS_BLOCK_SCRIPT}"; fi
else
  fail "IMDS block ${BOOT_IMDS_BLOCK_SCRIPT} is missing or not root 0755"
fi
if [[ -f "$comfyui_unit" ]] && grep -q "^Requires=.*\b${BOOT_IMDS_BLOCK_UNIT}\b" "$comfyui_unit" && grep -q "^After=.*\b${BOOT_IMDS_BLOCK_UNIT}\b" "$comfyui_unit"; then
  pass "${BOOT_COMFYUI_UNIT} requires ${BOOT_IMDS_BLOCK_UNIT}"
else
  fail "${BOOT_COMFYUI_UNIT} does not require and follow ${BOOT_IMDS_BLOCK_UNIT}"
fi

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
