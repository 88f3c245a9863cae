#!/usr/bin/env bash
# Unfused (Megatron-LM 2021) attention on one GPU: measured vs the built-in model.
set -u
S=.carry/strata
add() { for lib in $(ldd "$S" | awk '/not found/ {print $1}'); do d=$(find /usr/local /usr/lib /opt -name "$lib" 2>/dev/null | head -1); [ -n "$d" ] && export LD_LIBRARY_PATH=$(dirname "$d")${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}; done; }
add
export STRATA_ROOT=$PWD
o=$OUT/unfused; mkdir -p $o
card=$(nvidia-smi --query-gpu=name --format=csv,noheader | head -1)
g=H100-SXM; case "$card" in *H200*) g=H200-SXM;; esac
echo "card $card -> $g"
{ echo "card: $card"; echo "built-in GPU for the predictions: $g"; nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm,power.limit --format=csv; nvcc --version | tail -2 | head -1; date -u +%Y-%m-%dT%H:%M:%SZ; echo "strata commit: $(git rev-parse HEAD 2>/dev/null)"; echo "one GPU: no communication in this scenario (tp = pp = dp = 1), every task measured"; } > $o/metadata.txt
big="--set model.hidden=4096 --set model.heads=32 --set model.kv_heads=32 --set model.ffn_hidden=16384"
for v in hd96 hd128; do
  extra=""; [ $v = hd128 ] && extra=$big
  for run in 1 2; do
    $S exec scenarios/one-gpu-gpt-unfused.json $extra --backend cuda --warmup 2 --trace $o/$v.measured$run.json --report $o/$v.measured$run-report.json 2>&1 | head -3
  done
  $S simulate scenarios/one-gpu-gpt-unfused.json $extra --set cluster.gpu=$g --trace $o/$v.predicted.json --report $o/$v.predicted-report.json >/dev/null
  for run in 1 2; do
    $S compare $o/$v.predicted.json $o/$v.measured$run.json --report $o/$v.compare$run.json 2>&1 | head -30
  done
done
tar -czf $OUT/unfused.tar.gz -C $OUT unfused && rm -rf $o
ls -la $OUT
