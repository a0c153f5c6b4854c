#!/usr/bin/env bash
# stream-rss.sh [STEPS]: peak RSS of pretraining over streamed data at two sizes
# (docs/PERFORMANCE.md, issue 18). Writes 2048 synthetic 224x224 JPEGs, shards them
# (d2v shard, 64 per shard), lists the shards again and again in manifests of 20480
# and 204800 examples, and runs STEPS (default 150) steps of the tiny model at
# 224x224x3 (196 tokens, batch 64, crops and flips) over each, and over the folder
# streamed and in memory, printing /usr/bin/time's peak RSS (%M, KB) for each run.
set -euo pipefail
steps=${1:-150}
cd "$(dirname "$0")/.."
go build -o bin/d2v ./cmd/d2v
go build -o bin/streamrss ./scripts/streamrss
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
bin/streamrss images "$work/img" 2048
bin/d2v shard --from folder --in "$work/img" --out "$work/shards" --per-shard 64
bin/streamrss repeat "$work/shards" "$work/rep20k" 20480
bin/streamrss repeat "$work/shards" "$work/rep200k" 204800
run() { # name source path [--set ...]
	local name=$1 src=$2 path=$3
	shift 3
	/usr/bin/time -f "$name: %M KB peak RSS, %e s wall, %U s user" nice bin/d2v pretrain -c configs/tiny.yaml \
		--set run.dir="$work/runs" --name "$name" --set data.source="$src" --set data.path="$path" --set data.limit=0 \
		--set modalities.image.size=224 --set modalities.image.patch_size=16 --set modalities.image.channels=3 \
		--set modalities.image.mean=0.5 --set modalities.image.std=0.25 --set masking.min_per_block=16 \
		--set data.batch_size=64 --steps "$steps" --set run.ckpt_every=100000 \
		--set modalities.image.augment.crop=true --set modalities.image.augment.flip=true "$@" 2>&1 | tail -1
}
run shards-20480 shards "$work/rep20k"
run shards-204800 shards "$work/rep200k"
run folder-2048-stream folder "$work/img" --set data.load=stream
run folder-2048-memory folder "$work/img" --set data.load=memory
