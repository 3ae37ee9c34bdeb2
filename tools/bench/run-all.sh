#!/usr/bin/env bash
# Runs the PyTorch reference and then `npm run bench` on each backend, one after the other
# (the numbers in docs/benchmarks.md), then writes the report into docs/benchmarks.md.
# Run it on a quiet machine: nothing else should be using the cores. Results go to
# tools/bench/results/ (RESULTS=<folder> to change).
set -uo pipefail
cd "$(dirname "$0")/../.."
R=${RESULTS:-tools/bench/results}
mkdir -p "$R"
load() { echo "$(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg) $*" >> "$R/load.log"; }
load "start torch"
tools/bench/torch-reference.sh "$R/torch.jsonl"
for b in wasm wasm-mt native; do
  load "start $b"
  npm run -s bench -- --backend "$b" --json "$R/$b.json" --budget-s "${BUDGET:-600}" > "$R/$b.txt" 2>&1
done
# the reference backend and the software GPU: every workload is attempted, and a case whose
# single step is estimated over the budget is recorded as skipped with its estimate
load "start cpu"
npm run -s bench -- --backend cpu --json "$R/cpu.json" --budget-s 60 > "$R/cpu.txt" 2>&1
load "start webgpu"
npm run -s bench -- --backend webgpu --runs 3 --warmup 1 --json "$R/webgpu.json" --budget-s 60 > "$R/webgpu.txt" 2>&1
load "end"
npx tsx --tsconfig tsconfig.base.json tools/bench/report.ts --results "$R" --write docs/benchmarks.md
