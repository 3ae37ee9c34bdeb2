#!/usr/bin/env bash
# How packages/models-mnist/mnist-classifier was trained (run from the repository root): the mnist-classifier
# preset (width 32, depth 1, mult 1,2,2, attention at 14 and 7, attention pool) on noised
# MNIST (uniform t, cosine schedule), 1500 AdamW steps with the lr annealed to 0.
set -euo pipefail
exec npx tsx --tsconfig tsconfig.base.json apps/cli/src/main.ts train-classifier \
  --preset mnist-classifier --data mnist \
  --batch 64 --lr 3e-4 --anneal-lr --steps 1500 --seed 2 \
  --out runs/mnist-classifier --backend native \
  --save-every 100 --log-every 20 "$@"
