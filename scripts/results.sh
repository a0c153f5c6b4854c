#!/usr/bin/env bash
# results.sh: reproduce the MNIST results table (README, docs/RESULTS.md) on this machine.
#
#   scripts/results.sh [STEPS]     (default: configs/mnist-full.yaml's 3000 steps)
#
# 1. full MNIST into data/mnist (scripts/get-mnist.sh);
# 2. pretrain on the 60k training images (labels unused) for STEPS steps;
# 3. linear probe + k-NN (60k train -> 10k test) of the pretrained encoder
#    and of a randomly initialised encoder of the same shape and seed;
# 4. fine-tune both (configs/finetune-mnist.yaml) and report test accuracy.
# Everything lands in runs/mnist-<STEPS>/; timings are printed by `time`.
set -euo pipefail
cd "$(dirname "$0")/.."
steps="${1:-3000}"
run="runs/mnist-${steps}"
[[ -f data/mnist/t10k-labels-idx1-ubyte.gz ]] || scripts/get-mnist.sh data/mnist
go build -o bin/d2v ./cmd/d2v
time bin/d2v pretrain -c configs/mnist-full.yaml --steps "$steps" --set teacher.ema_anneal_steps="$steps" --name "mnist-${steps}" --set run.progress=false
time bin/d2v eval --checkpoint "$run" --out "$run/eval"
time bin/d2v eval --random-init -c configs/mnist-full.yaml --out "$run/eval-random"
time bin/d2v finetune --checkpoint "$run" -c configs/finetune-mnist.yaml --out "$run/finetune" --set run.progress=false
time bin/d2v finetune --random-init -c configs/finetune-mnist.yaml --out "$run/finetune-random" --set run.progress=false
