#!/usr/bin/env bash
# Installs exactly the Debian 12 packages Strata needs that are missing; safe to run again.
# CUDA 13 (nvcc, cuBLAS, NCCL) is not a Debian package: when it is present in /usr/local/cuda
# the cuda backend is built, otherwise it is skipped. Open MPI lets `strata exec --backend cuda`
# run one process per GPU under mpirun.
set -euo pipefail
packages=(
  build-essential cmake ninja-build ccache pkg-config
  nlohmann-json3-dev libboost-graph-dev libeigen3-dev libcli11-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  qt6-base-dev libgl-dev xvfb xauth
  libopenmpi-dev openmpi-bin
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "setup: all packages present"
fi
