#!/usr/bin/env bash
# The PyTorch side of docs/benchmarks.md: the same workloads with PyTorch 1.13 CPU (Debian's
# python3-torch with OpenBLAS), 2 threads. Needs /work/shared/reference (or REF=<folder>) and
#   apt-get install -y python3-torch libopenblas0-pthread
# Usage: [ONLY=blocks] tools/bench/torch-reference.sh [out.jsonl]   (one JSON line per measurement)
set -euo pipefail
REF=${REF:-/work/shared/reference}
OUT=$(realpath -m "${1:-/dev/stdout}")
PY=/usr/bin/python3
cd "$REF"
{
  for w in res attn; do
    for m in fwd fwdbwd; do
      fmt=nchw; [ "$w" = res ] && fmt=cl
      $PY torch_blocks_bench.py "$w" "$m" "$fmt" 10 2 2 | sed -n 's/^RESULT //p'
      # 1 thread too: on a loaded machine two OpenMP threads wait on each other.
      $PY torch_blocks_bench.py "$w" "$m" "$fmt" 10 2 1 | sed -n 's/^RESULT //p'
    done
  done
  [ "${ONLY:-}" = blocks ] && exit 0
  $PY bench.py mnist_small.json --batch 64 --modes forward,train --runs 10 --warmup 1 --threads 2 --workload unet-mnist
  $PY bench.py imagenet64_cond.json --batch 4 --modes forward --runs 3 --warmup 1 --threads 2 --workload unet-imagenet64
  $PY flops.py mnist_small.json
  $PY flops.py imagenet64_cond.json
} > "$OUT"
