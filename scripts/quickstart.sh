#!/usr/bin/env bash
# Quick start, command 1: set up, build, and run the default scenario.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build --target strata
mkdir -p out
build/cli/strata simulate scenarios/default.json --report out/report.json --trace out/timeline.json
echo "report: out/report.json   timeline: out/timeline.json (open it in https://ui.perfetto.dev)"
