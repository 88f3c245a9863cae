#!/usr/bin/env bash
# Real-GPU measurements for traces/ (issue 5). Two steps:
#
#   scripts/gpu-run.sh prepare        on a development machine with the Debian packages of
#                                     scripts/setup.sh: copies the header-only dependencies
#                                     (nlohmann_json, CLI11, Eigen, the Boost headers Strata
#                                     includes) into the ignored folder .deps/, with CMake
#                                     package files, so that a machine with no package
#                                     registry can build Strata.
#   scripts/gpu-run.sh [OUT_DIR]      on the GPU machine (nvcc, cuBLAS, NCCL, CMake, ninja;
#                                     .deps/ carried along): builds strata with the cuda
#                                     backend (GUI and tests off), runs calibrate, simulate,
#                                     exec and compare on scenarios that fit one GPU, and
#                                     writes everything with metadata into
#                                     traces/<card>-<date>/ (or OUT_DIR). When $OUT is set
#                                     (the device tool), a copy goes to $OUT/<card>-<date>/.
#
# STRATA_BIN=path: use a strata built elsewhere (same CUDA major version) instead of building;
# build it with -DSTRATA_WITH_MPI=OFF unless the GPU machine has Open MPI's libmpi.so.40.
# Environment: NCCL_HOME (folder with include/nccl.h and lib/libnccl.so*) when NCCL is neither
# in the CUDA toolkit nor in a Python package (nvidia-nccl-cu*); JOBS (build jobs, default nproc).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
deps=$root/.deps

prepare() {
  rm -rf "$deps"
  mkdir -p "$deps/include" "$deps/share/cmake"
  # nlohmann_json, CLI11, Eigen: headers + their CMake package files.
  cp -r /usr/include/nlohmann "$deps/include/"
  cp -r /usr/share/cmake/nlohmann_json "$deps/share/cmake/"
  cp -r /usr/include/CLI "$deps/include/"
  cp -r /usr/share/cmake/CLI11 "$deps/share/cmake/"
  mkdir -p "$deps/include/eigen3"
  cp -r /usr/include/eigen3/Eigen "$deps/include/eigen3/"
  [ -d /usr/include/eigen3/unsupported ] && cp -r /usr/include/eigen3/unsupported "$deps/include/eigen3/" || true
  mkdir -p "$deps/share/eigen3/cmake"
  sed "s#/usr/include/eigen3#$deps/include/eigen3#g; s#\${PACKAGE_PREFIX_DIR}/include/eigen3#\${PACKAGE_PREFIX_DIR}/include/eigen3#g" \
    /usr/share/eigen3/cmake/Eigen3Config.cmake > "$deps/share/eigen3/cmake/Eigen3Config.cmake"
  cp /usr/share/eigen3/cmake/Eigen3ConfigVersion.cmake /usr/share/eigen3/cmake/Eigen3Targets.cmake "$deps/share/eigen3/cmake/" 2>/dev/null || true
  cp /usr/share/eigen3/cmake/*.cmake "$deps/share/eigen3/cmake/" 2>/dev/null || true
  # Boost: only the headers Strata's sources reach (the full tree is 160 MB), found by the
  # preprocessor, plus a small BoostConfig that provides Boost::headers and Boost::graph.
  local srcs
  srcs=$(find sim exec cli -name '*.cpp')
  for f in $srcs; do
    g++ -std=c++20 -M -MG -Isim -Iexec -I/usr/include/eigen3 -DSTRATA_SOURCE_ROOT='""' "$f" 2>/dev/null || true
  done | tr ' \\' '\n\n' | grep '^/usr/include/boost/' | sort -u > "$deps/boost-headers.txt"
  while read -r h; do
    mkdir -p "$deps/include/$(dirname "${h#/usr/include/}")"
    cp "$h" "$deps/include/${h#/usr/include/}"
  done < "$deps/boost-headers.txt"
  mkdir -p "$deps/share/cmake/Boost"
  cat > "$deps/share/cmake/Boost/BoostConfigVersion.cmake" <<'EOF'
set(PACKAGE_VERSION "1.74.0")
if(PACKAGE_FIND_VERSION VERSION_GREATER PACKAGE_VERSION)
  set(PACKAGE_VERSION_COMPATIBLE FALSE)
else()
  set(PACKAGE_VERSION_COMPATIBLE TRUE)
  if(PACKAGE_FIND_VERSION STREQUAL PACKAGE_VERSION)
    set(PACKAGE_VERSION_EXACT TRUE)
  endif()
endif()
EOF
  cat > "$deps/share/cmake/Boost/BoostConfig.cmake" <<'EOF'
# Header-only Boost carried in .deps/ by scripts/gpu-run.sh prepare (Strata uses no compiled
# Boost library): every requested component is an alias of the headers.
get_filename_component(_strata_boost_inc "${CMAKE_CURRENT_LIST_DIR}/../../../include" ABSOLUTE)
if(NOT TARGET Boost::headers)
  add_library(Boost::headers INTERFACE IMPORTED)
  set_target_properties(Boost::headers PROPERTIES INTERFACE_INCLUDE_DIRECTORIES "${_strata_boost_inc}")
endif()
foreach(_c IN LISTS Boost_FIND_COMPONENTS)
  if(NOT TARGET Boost::${_c})
    add_library(Boost::${_c} INTERFACE IMPORTED)
    set_target_properties(Boost::${_c} PROPERTIES INTERFACE_LINK_LIBRARIES Boost::headers)
  endif()
  set(Boost_${_c}_FOUND TRUE)
endforeach()
set(Boost_FOUND TRUE)
set(Boost_VERSION 1.74.0)
set(Boost_INCLUDE_DIRS "${_strata_boost_inc}")
EOF
  echo "gpu-run: .deps/ ready ($(du -sh "$deps" | cut -f1)); carry it to the GPU machine with the tree"
}

find_nccl() {
  if [ -n "${NCCL_HOME:-}" ] && [ -f "$NCCL_HOME/include/nccl.h" ]; then return; fi
  for inc in /usr/local/cuda/include /usr/include; do
    if [ -f "$inc/nccl.h" ] && ls "${inc%/include}"/lib*/libnccl.so* >/dev/null 2>&1; then return; fi
    if [ -f "$inc/nccl.h" ] && ls /usr/lib/x86_64-linux-gnu/libnccl.so* >/dev/null 2>&1; then return; fi
  done
  # A Python wheel (nvidia-nccl-cu13 / -cu12): headers and libnccl.so.2 without the .so link.
  local py dir
  for py in python3 /opt/torch/.venv/bin/python3; do
    dir=$($py -c 'import nvidia.nccl, os; print(os.path.dirname(nvidia.nccl.__file__) if nvidia.nccl.__file__ else list(nvidia.nccl.__path__)[0])' 2>/dev/null) || continue
    if [ -f "$dir/include/nccl.h" ]; then
      mkdir -p "$deps/nccl/lib"
      ln -sfn "$dir/include" "$deps/nccl/include"
      local lib
      lib=$(ls "$dir"/lib/libnccl.so* | head -1)
      ln -sf "$lib" "$deps/nccl/lib/libnccl.so"
      ln -sf "$lib" "$deps/nccl/lib/$(basename "$lib")"
      export NCCL_HOME=$deps/nccl
      export LD_LIBRARY_PATH=$dir/lib:${LD_LIBRARY_PATH:-}
      return
    fi
  done
  echo "gpu-run: NCCL not found (set NCCL_HOME)" >&2
  exit 1
}

if [ "${1:-}" = "prepare" ]; then
  prepare
  exit 0
fi

command -v nvidia-smi >/dev/null || { echo "gpu-run: no nvidia-smi: this is not a GPU machine" >&2; exit 1; }
export PATH=/usr/local/cuda/bin:$PATH

# Shared libraries a carried binary needs that the loader does not find here (the CUDA
# toolkit's lib64 or the Python wheels nvidia-cublas / nvidia-nccl-cu13 hold them).
add_missing_libs() {
  local bin=$1 lib dir
  for lib in $(ldd "$bin" 2>/dev/null | awk '/not found/ {print $1}'); do
    dir=$(find /usr/local /usr/lib /opt -name "$lib" 2>/dev/null | head -1)
    [ -n "$dir" ] && export LD_LIBRARY_PATH=$(dirname "$dir")${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
  done
}

card=$(nvidia-smi --query-gpu=name --format=csv,noheader | head -1)
slug=$(echo "$card" | tr 'A-Z' 'a-z' | sed 's/nvidia //; s/[^a-z0-9]\+/-/g; s/^-//; s/-$//')
date=$(date -u +%Y-%m-%d)
out=${1:-traces/$slug-$date}
mkdir -p "$out"
log=$out/commands.log
: > "$log"
# Every step is logged with its exit status and time; a failed step does not stop the others.
run() {
  echo "\$ $*" | tee -a "$log"
  local t0=$SECONDS
  "$@" 2>&1 | tee -a "$log"
  local rc=${PIPESTATUS[0]}
  echo "(exit $rc, $((SECONDS - t0)) s)" | tee -a "$log"
  return "$rc"
}

# The strata binary: STRATA_BIN (built elsewhere with the same CUDA major version and carried)
# when it loads here, else a build from this tree (needs .deps/ from 'prepare').
strata=""
if [ -n "${STRATA_BIN:-}" ] && [ -x "$STRATA_BIN" ]; then
  add_missing_libs "$STRATA_BIN"
  if "$STRATA_BIN" --version >/dev/null 2>&1; then strata=$STRATA_BIN; fi
  echo "gpu-run: carried binary $STRATA_BIN: $([ -n "$strata" ] && echo usable || echo 'does not load here, building')" | tee -a "$log"
fi
if [ -z "$strata" ]; then
  [ -d "$deps/include/nlohmann" ] || { echo "gpu-run: .deps/ is missing: run 'scripts/gpu-run.sh prepare' on a development machine and carry .deps/" >&2; exit 1; }
  find_nccl
  build=build-gpu
  run cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DSTRATA_WITH_GUI=OFF -DSTRATA_WITH_CUDA=ON \
    -DBUILD_TESTING=OFF -DCMAKE_PREFIX_PATH="$deps;$deps/share/cmake;$deps/share/eigen3/cmake" \
    -DBoost_NO_SYSTEM_PATHS=ON -DBoost_DIR="$deps/share/cmake/Boost" || exit 1
  run cmake --build "$build" -j "${JOBS:-$(nproc)}" --target strata || exit 1
  strata=$build/cli/strata
fi
export STRATA_ROOT=$root
# The built-in GPU the predictions compare against: the card found here, where Strata knows it
# (the shipped scenarios name an H100), or SIM_GPU.
sim_gpu=${SIM_GPU:-}
case "$card" in
  *H200*) sim_gpu=${sim_gpu:-H200-SXM} ;;
  *GB200*) sim_gpu=${sim_gpu:-GB200} ;;
  *B200*) sim_gpu=${sim_gpu:-B200} ;;
esac
sim_set=()
[ -n "$sim_gpu" ] && sim_set=(--set "cluster.gpu=$sim_gpu")
echo "gpu-run: card '$card', built-in GPU for predictions: ${sim_gpu:-as each scenario says}" | tee -a "$log"
run "$strata" --version
run nvidia-smi || true

# Scenarios that fit one GPU. one-gpu-*: every task real (no communication), so the whole step
# is measured. default: Llama-3-8B tp 4 x pp 2 x dp 2 at full size, one representative rank per
# class: its compute runs the real shapes; its communication is not measured (one GPU).
scenarios=${SCENARIOS:-"scenarios/one-gpu-llama-1b.json scenarios/one-gpu-moe.json scenarios/exec-small.json scenarios/default.json scenarios/llama3-70b-inference.json"}
cal_args=()
for sc in $scenarios; do cal_args+=(--scenario "$sc"); done
run timeout "${CAL_TIMEOUT:-300}" "$strata" calibrate --backend cuda --out "$out/profile.json" "${cal_args[@]}" --no-progress || true

for sc in $scenarios; do
  name=$(basename "$sc" .json)
  run timeout 120 "$strata" exec "$sc" --backend cuda --warmup 2 --trace "$out/$name.measured.json" --report "$out/$name.measured-report.json" || continue
  # The prediction with the fitted profile, and with the built-in tables (what a planner gets
  # before calibrating): both compared with the measurement.
  if [ -f "$out/profile.json" ]; then
    run "$strata" simulate "$sc" "${sim_set[@]}" --set profile="$root/$out/profile.json" --trace "$out/$name.predicted.json" --report "$out/$name.predicted-report.json" &&
      run "$strata" compare "$out/$name.predicted.json" "$out/$name.measured.json" --report "$out/$name.compare.json" || true
  fi
  run "$strata" simulate "$sc" "${sim_set[@]}" --trace "$out/$name.predicted-builtin.json" --report "$out/$name.predicted-builtin-report.json" &&
    run "$strata" compare "$out/$name.predicted-builtin.json" "$out/$name.measured.json" --report "$out/$name.compare-builtin.json" || true
done

strata_version=$("$strata" --version 2>&1 | head -1)
python3 - "$out/metadata.json" "$card" "$log" "$strata_version" <<'EOF'
import json, subprocess, sys
def sh(c):
    try: return subprocess.run(c, shell=True, capture_output=True, text=True).stdout.strip()
    except Exception: return ""
gpus = int(sh("nvidia-smi -L | wc -l") or 1)
meta = {
  "card": sys.argv[2],
  "gpus": sh("nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader"),
  "gpu_count": gpus,
  "driver": sh("nvidia-smi --query-gpu=driver_version --format=csv,noheader | head -1"),
  "cuda": sh("nvcc --version | tail -2 | head -1"),
  "strata_version": sys.argv[4],
  "clocks": sh("nvidia-smi --query-gpu=clocks.sm,clocks.max.sm,clocks.mem,power.limit,temperature.gpu --format=csv"),
  "topology": sh("nvidia-smi topo -m"),
  "date_utc": sh("date -u +%Y-%m-%dT%H:%M:%SZ"),
  "strata_commit": sh("git rev-parse HEAD 2>/dev/null"),
  "commands": open(sys.argv[3]).read().splitlines()[:600],
  "note": ("one GPU: NCCL collectives of one rank; scenarios with more ranks than GPUs run one representative rank "
           "per class, their communication tasks are marked measured=false and strata compare leaves them out") if gpus < 2 else "",
}
json.dump(meta, open(sys.argv[1], "w"), indent=1)
EOF
echo "gpu-run: results in $out"
if [ -n "${OUT:-}" ]; then
  # The device tool brings back at most 8 files: one archive of everything, plus the log.
  tar -czf "$OUT/traces.tar.gz" -C "$(dirname "$out")" "$(basename "$out")"
  cp "$log" "$OUT/commands.log"
  ls -la "$OUT"
fi
