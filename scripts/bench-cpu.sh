#!/usr/bin/env bash
# bench-cpu.sh: d2v's training step vs the PyTorch reference step by CPU time
# on ONE thread, for a machine shared with other jobs.
#
#   scripts/bench-cpu.sh [ROUNDS]      (default 3; env D2V_REF=path/to/ref_step.py, D2V_BIN=d2v binary)
#
# scripts/bench.sh (2 threads, wall clock) is the issue's measure, but when
# other jobs oversubscribe the cores its numbers mean nothing (PyTorch's
# OpenMP threads spin at barriers and one run gave 1310 ms/step at S). CPU
# time of a single thread does not count the time others hold the core:
# d2v reports it per step (median_step_cpu_ms); for PyTorch it is the
# process's user+sys time of --steps 40 minus --steps 10 (M: 30 minus 10),
# divided by the step difference (so start-up cancels out). Configs S, M,
# S with patches, S with T=256 and data2vec 2.0 (V2 = configs/bench-v2.yaml
# = --method data2vec2; V2-patches = configs/bench-v2-patches.yaml =
# --method data2vec2 --input patches --cls) alternate (A B A B ...); the
# table holds the median over rounds and the range.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${1:-3}"
ref="${D2V_REF:-../shared/reference/ref_step.py}"
bin="${D2V_BIN:-}"
if [[ -z $bin ]]; then
	go build -o bin/d2v ./cmd/d2v
	bin=bin/d2v
fi
/usr/bin/python3 -c 'import torch' 2>/dev/null || { echo "bench-cpu.sh: needs /usr/bin/python3 with torch" >&2; exit 1; }
ob="$PWD/.cache/openblas-openmp/usr/lib/x86_64-linux-gnu/openblas-openmp"
[[ -d $ob ]] && export LD_LIBRARY_PATH="$ob${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

field() { grep -o "\"$1\": *[0-9.e+-]*" | head -1 | cut -d: -f2 | tr -d " "; }
tcpu() { { /usr/bin/time -f 'CPU %U %S' /usr/bin/python3 "$ref" --threads 1 "$@" >/dev/null; } 2>&1 | awk '/^CPU/ {print $2+$3}'; }

declare -A d2v torch
names=(S M S-patches S-T256 V2 V2-patches)
for r in $(seq "$rounds"); do
	for c in "${names[@]}"; do
		cfg=configs/bench-s.yaml sets=() args=() n1=10 n2=40
		case $c in
		M) cfg=configs/bench-m.yaml args=(--dim 256 --ffn 1024 --layers 4) n2=30 ;;
		S-patches) cfg=configs/bench-s-patches.yaml args=(--input patches) ;;
		S-T256) sets=(--set modalities.tokens.seq_len=256) args=(--seq 256) n1=5 n2=20 ;;
		V2) cfg=configs/bench-v2.yaml args=(--method data2vec2) ;;
		V2-patches) cfg=configs/bench-v2-patches.yaml args=(--method data2vec2 --input patches --cls) ;;
		esac
		# one thread: no batch split (its parts would only run in turn, ~7% more work at S)
		d2v[$c]+="$("$bin" bench -c "$cfg" --set run.threads=1 --set run.batch_split=1 "${sets[@]}" --steps 20 --warmup 5 | field median_step_cpu_ms) "
		a=$(tcpu "${args[@]}" --warmup 2 --steps $n1)
		b=$(tcpu "${args[@]}" --warmup 2 --steps $n2)
		torch[$c]+="$(awk -v a="$a" -v b="$b" -v n=$((n2 - n1)) 'BEGIN {printf "%.2f", (b-a)*1000/n}') "
		echo "round $r $c done" >&2
	done
done

stats() { tr ' ' '\n' | grep . | sort -g | awk '{a[NR]=$1} END {printf "%.2f [%.2f-%.2f]", a[int((NR+1)/2)], a[1], a[NR]}'; }
med() { tr ' ' '\n' | grep . | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
printf '%-10s %24s %24s %6s\n' config "d2v CPU ms/step" "torch CPU ms/step" ratio
line="cpu-ratio"
for c in "${names[@]}"; do
	ratio=$(awk -v a="$(med <<<"${d2v[$c]}")" -v b="$(med <<<"${torch[$c]}")" 'BEGIN {printf "%.2f", a/b}')
	printf '%-10s %24s %24s %6s\n' "$c" "$(stats <<<"${d2v[$c]}")" "$(stats <<<"${torch[$c]}")" "$ratio"
	line+=" $c=$ratio"
done
echo "1 thread each; d2v: median over 20 steps per run; torch: (CPU(n2 steps) - CPU(n1 steps))/(n2-n1); median [min-max] over $rounds rounds"
echo "$line"
