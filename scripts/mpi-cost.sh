#!/usr/bin/env bash
# mpi-cost.sh: what data-parallel pretraining pays for its allreduces here.
#
#   scripts/mpi-cost.sh [STEPS [ROUNDS]]   (default 40 steps, 3 rounds; needs Open MPI)
#
# 1. The bucketed float32 gradient allreduce alone on 2 ranks (pkg/dist
#    BenchmarkSumBuckets, 200 calls) at the parameter counts of the default
#    config (205k) and configs/bench-s.yaml (550k) and bench-m.yaml (3.5M).
# 2. Real pretraining, one process with 2 threads and the whole batch against
#    mpirun -np 2 with 1 thread (no batch split) and half the batch per rank, for the default
#    config and text models shaped like bench-s and bench-m (pretraining reads
#    image or text data, not the benchmarks' raw tokens): the median step_ms
#    and, for 2 ranks, comm_ms (time in the gradient and statistics
#    allreduces, which includes waiting for the slower rank) over the steps
#    after the first 5; the runs alternate (1 process, 2 ranks, 1 process, ...)
#    for ROUNDS rounds and the median over rounds is printed, because a shared
#    machine's load drifts. Docs: docs/DISTRIBUTED.md.
set -euo pipefail
cd "$(dirname "$0")/.."
steps="${1:-40}"
rounds="${2:-3}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/d2v" ./cmd/d2v
go build -tags mpi -o "$tmp/d2v-mpi" ./cmd/d2v
go test -c -tags mpi -o "$tmp/dist.test" ./pkg/dist
mpi=(mpirun --allow-run-as-root --oversubscribe --bind-to none -np 2)
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), $(mpirun --version | head -1)"

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
echo "== allreduce alone, 2 ranks: median over $rounds x 200 calls (both ranks' figures) =="
"${mpi[@]}" "$tmp/dist.test" -test.run '^$' -test.bench SumBuckets -test.benchtime 200x -test.count "$rounds" |
	grep -o 'SumBuckets/[^ ]* .*[0-9.]* ms/allreduce' | awk '{print $1, $(NF-1)}' > "$tmp/bench.txt"
for b in $(cut -d' ' -f1 "$tmp/bench.txt" | sort -u); do
	echo "$b $(grep "^$b " "$tmp/bench.txt" | cut -d' ' -f2 | median) ms/allreduce"
done
col() { tail -n +6 "$1/metrics.jsonl" | grep -o "\"$2\":[0-9.e+-]*" | cut -d: -f2 | median; }
text_s=(-c configs/bench-s.yaml --set model.modality=text --set modalities.text.seq_len=64 --set masking.kind=span)
text_m=(-c configs/bench-m.yaml --set model.modality=text --set modalities.text.seq_len=64 --set masking.kind=span)
echo "== pretraining: median over $rounds rounds of each run's median ms/step (steps 6..$steps) =="
printf '%-8s %14s %14s %14s\n' config "1 proc x 2thr" "2 ranks x 1thr" "of which comm"
for name in default text-s text-m; do
	case $name in
	default) args=() ;;
	text-s) args=("${text_s[@]}") ;;
	text-m) args=("${text_m[@]}") ;;
	esac
	common=(pretrain "${args[@]}" --steps "$steps" --set run.log_every=1 --set run.ckpt_every=100000
		--set run.progress=false --set run.dir="$tmp/runs")
	one=() two=() comm=()
	for r in $(seq "$rounds"); do
		"$tmp/d2v" "${common[@]}" --set run.threads=2 --name "$name-1-$r" 2>/dev/null
		"${mpi[@]}" "$tmp/d2v-mpi" "${common[@]}" --set run.threads=1 --set run.batch_split=1 --name "$name-2-$r" 2>/dev/null
		one+=("$(col "$tmp/runs/$name-1-$r" step_ms)")
		two+=("$(col "$tmp/runs/$name-2-$r" step_ms)")
		comm+=("$(col "$tmp/runs/$name-2-$r" comm_ms)")
	done
	printf '%-8s %14s %14s %14s   (rounds: %s | %s | %s)\n' "$name" "$(printf '%s\n' "${one[@]}" | median)" \
		"$(printf '%s\n' "${two[@]}" | median)" "$(printf '%s\n' "${comm[@]}" | median)" "${one[*]}" "${two[*]}" "${comm[*]}"
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
