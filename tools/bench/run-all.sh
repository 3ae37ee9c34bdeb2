#!/usr/bin/env bash
# Runs the PyTorch reference and then `npm run bench` on each backend, one after the other
# (the numbers in docs/benchmarks.md). Results go to tools/bench/results/.
set -uo pipefail
cd "$(dirname "$0")/../.."
R=tools/bench/results
mkdir -p "$R"
load() { echo "$(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg) $*" >> "$R/load.log"; }
load "start torch"
tools/bench/torch-reference.sh "$R/torch.jsonl"
load "start wasm"
npm run -s bench -- --backend wasm --json "$R/wasm.json" --budget-s ${WASM_BUDGET:-300} > "$R/wasm.txt" 2>&1
load "start cpu"
npm run -s bench -- --backend cpu --json "$R/cpu.json" --budget-s 60 > "$R/cpu.txt" 2>&1
load "start webgpu"
npm run -s bench -- --backend webgpu --workload res128,attn128 --runs 3 --warmup 1 --json "$R/webgpu-swiftshader.json" --budget-s 60 > "$R/webgpu.txt" 2>&1
load "end"
