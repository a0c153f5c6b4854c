#!/usr/bin/env bash
# results-audio.sh: reproduce the speech table (README, docs/RESULTS.md) on this machine.
#
#   scripts/results-audio.sh [STEPS] [extra d2v flags...]   (default: audio-tiny's 1500 steps)
#
# 1. pretrain configs/audio-tiny.yaml on the train voices of the embedded
#    spoken digits (labels unused);
# 2. linear probe + k-NN (train voices -> the held-out test voices) of the
#    pretrained encoder and of a randomly initialised one of the same shape;
# 3. fine-tune both and report test accuracy on the held-out voices.
# Everything lands in runs/audio-<STEPS>/; timings are printed by `time`.
# Extra flags go to every command, e.g. --set data.source=folder --set
# data.path=data/speech/digits after scripts/get-speech.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
steps="${1:-1500}"
shift || true
run="runs/audio-${steps}"
go build -o bin/d2v ./cmd/d2v
time bin/d2v pretrain -c configs/audio-tiny.yaml --steps "$steps" --name "audio-${steps}" --set run.progress=false "$@"
time bin/d2v eval --checkpoint "$run" --out "$run/eval" "$@"
time bin/d2v eval --random-init -c configs/audio-tiny.yaml --out "$run/eval-random" "$@"
time bin/d2v finetune --checkpoint "$run" --out "$run/finetune" --set run.progress=false "$@"
time bin/d2v finetune --random-init -c configs/audio-tiny.yaml --out "$run/finetune-random" --set run.progress=false "$@"
