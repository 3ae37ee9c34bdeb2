#!/usr/bin/env bash
# res128 / attn128, forward and forward+backward: PyTorch (2 threads, channels_last and NCHW)
# and the native backend (composed GroupNorm as the UNet writes it, and the fused kernel),
# one after the other in the same session, ROUNDS times. Prints RESULT lines.
# Needs: apt-get install -y python3-torch libopenblas0-pthread; the addon built.
# usage: packages/native/bench/compare-torch.sh [rounds=1] [reps=10]
set -euo pipefail
cd "$(dirname "$0")/../../.."
rounds=${1:-1}
reps=${2:-10}
ref=${TORCH_BENCH:-/work/shared/reference/torch_blocks_bench.py}
for r in $(seq "$rounds"); do
  for work in res attn; do
    for mode in fwd fwdbwd; do
      OMP_NUM_THREADS=2 /usr/bin/python3 "$ref" "$work" "$mode" cl "$reps" 2 2 | grep RESULT
      OMP_NUM_THREADS=2 /usr/bin/python3 "$ref" "$work" "$mode" nchw "$reps" 2 2 | grep RESULT
      # PyTorch with the OpenMP wait policy the native backend uses (sleeping, not spinning).
      OMP_WAIT_POLICY=passive OMP_NUM_THREADS=2 /usr/bin/python3 "$ref" "$work" "$mode" cl "$reps" 2 2 | sed 's/"backend": "/"backend": "passive-/' | grep RESULT
      for gn in composed fused; do
        OMP_NUM_THREADS=2 npx tsx --tsconfig tsconfig.base.json packages/native/bench/blocks.ts --backend native --work "$work" --mode "$mode" --groupnorm "$gn" --reps "$reps" | grep RESULT
      done
    done
  done
done
