#!/usr/bin/env bash
# How models/mnist-unet was trained (run from the repository root). Add --resume to continue
# from run/latest.json when the run folder is present, or --init models/mnist-unet to start
# from the bundled weights with a fresh optimizer.
set -euo pipefail
exec npx tsx --tsconfig tsconfig.base.json apps/cli/src/main.ts train \
  --preset mnist --config models/mnist-unet/train-flags.json \
  --data mnist --batch 32 --lr 4e-4 --ema 0.995,0.999 --steps 20000 \
  --out models/mnist-unet/run --backend native --seed 0 \
  --save-every 200 --log-every 20 --sample-every 500 --sample-count 20 --keep-checkpoints 1 "$@"
