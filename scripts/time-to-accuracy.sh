#!/usr/bin/env bash
# time-to-accuracy.sh: linear probe and k-NN on the 10k MNIST test images against
# pretraining wall-clock (and CPU time), beside the raw-pixel and random-init lines.
#
#   scripts/time-to-accuracy.sh [tta flags...]
#
# defaults: -recipes data2vec-p7=configs/mnist-full-p7.yaml,data2vec2=configs/image-v2-tiny.yaml
# (the best data2vec 1.0 and 2.0 recipes) -budgets 1,3,5,10,15 -out runs/tta: about 75 minutes
# of pretraining and 60 of evaluation on 2 cores. Run it on an otherwise idle machine (NICE=0).
# 1. full MNIST into data/mnist (scripts/get-mnist.sh) if missing;
# 2. for each recipe: a 40-step calibration run gives ms/step and the fixed cost, then one
#    pretraining run per budget with the step count that fits it (schedules scaled to it);
# 3. d2v eval of each checkpoint (60k train -> 10k test), raw pixels and random init once;
# 4. runs/tta/results.md (table), results.csv and tta.png (plot). Rerunning resumes.
# Everything runs under nice; the table states the actual wall-clock and the CPU time
# (user+sys) of each pretraining process. See scripts/tta/main.go for the details.
set -euo pipefail
cd "$(dirname "$0")/.."
[[ -f data/mnist/t10k-labels-idx1-ubyte.gz ]] || scripts/get-mnist.sh data/mnist
go build -o bin/d2v ./cmd/d2v
go build -o bin/tta ./scripts/tta
nice -n "${NICE:-10}" bin/tta -d2v bin/d2v -data data/mnist "$@"
