#!/usr/bin/env bash
# How packages/models-mnist/mnist-unet was trained (run from the repository root): the bundled model is the
# EMA (rate 0.999) weights of this run, stopped at the step recorded in packages/models-mnist/README.md.
# Add --resume to continue a run folder; --init packages/models-mnist/mnist-unet to fine-tune from the bundle.
set -euo pipefail
exec npx tsx --tsconfig tsconfig.base.json apps/cli/src/main.ts train \
  --config packages/models-mnist/mnist-unet/train-flags.json --data mnist \
  --batch 32 --lr 5e-4 --ema 0.999 --steps 4000 --seed 1 \
  --out runs/mnist-unet --backend native \
  --save-every 100 --log-every 20 --keep-checkpoints 1 "$@"
