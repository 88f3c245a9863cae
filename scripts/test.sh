#!/usr/bin/env bash
# Quick start, command 2: set up, build everything and run all tests (what CI runs).
# STRATA_SANITIZE=address,undefined builds a separate sanitizer tree.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
# ccache hits across clones in different folders (CI builds a fresh clone each time).
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=true
build=build
extra=()
if [ -n "${STRATA_SANITIZE:-}" ]; then build=build-sanitize; extra+=(-DSTRATA_SANITIZE="$STRATA_SANITIZE" -DSTRATA_WITH_GUI=OFF -DSTRATA_WITH_CUDA=OFF); fi
cmake -S . -B "$build" -G Ninja -DSTRATA_WERROR=ON "${extra[@]}" >/dev/null
cmake --build "$build"
export QT_QPA_PLATFORM=offscreen
ctest --test-dir "$build" --output-on-failure -j "$(nproc)"
