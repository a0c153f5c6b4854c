#!/usr/bin/env bash
# bench.sh: d2v's training step vs the PyTorch reference step, side by side.
#
#   scripts/bench.sh [ROUNDS] [--all]   (default 3 rounds; env D2V_REF=path/to/ref_step.py)
#
# --all adds S with patches (configs/bench-s-patches.yaml = --input patches),
# S with T=256 (--seq 256) and data2vec 2.0 on patches (configs/bench-v2-patches.yaml
# = --method data2vec2 --input patches --cls) to the table; the last line
# stays S, M and V2.
#
# Builds d2v, then alternates (A B A B ...) `d2v bench` and ref_step.py's
# timing mode for config S (configs/bench-s.yaml = ref_step.py defaults) and
# M (configs/bench-m.yaml = --dim 256 --ffn 1024 --layers 4) and V2, one
# data2vec 2.0 step (configs/bench-v2.yaml = --method data2vec2: 2 clones,
# visible tokens only, a 1-D conv decoder), 2 threads each, and prints the
# median over rounds of each run's median ms/step and the ratio
# d2v/PyTorch. The last line is `ratio S=<x.xx> M=<x.xx> V2=<x.xx>`.
# PyTorch: Debian python3-torch with the OpenMP OpenBLAS (fastest here, see
# the reference's README); without it, only d2v's figures are printed.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=3 all=0
for a in "$@"; do
	case $a in
	--all) all=1 ;;
	*) rounds=$a ;;
	esac
done
configs=(s m v2)
((all)) && configs+=(s-patches s-t256 v2-patches)
ref="${D2V_REF:-../shared/reference/ref_step.py}"
go build -o bin/d2v ./cmd/d2v

median_of() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
field() { grep -o "\"$1\": *[0-9.e+-]*" | head -1 | cut -d: -f2 | tr -d " "; }

have_torch=0
if [[ -f "$ref" ]] && /usr/bin/python3 -c 'import torch' 2>/dev/null; then
	have_torch=1
	ob=".cache/openblas-openmp"
	if [[ ! -d "$ob/usr/lib/x86_64-linux-gnu/openblas-openmp" ]]; then
		mkdir -p "$ob"
		(cd "$ob" && apt-get download libopenblas0-openmp >/dev/null 2>&1 && dpkg -x libopenblas0-openmp_*.deb .) ||
			echo "bench.sh: could not fetch libopenblas0-openmp; PyTorch uses the system BLAS" >&2
	fi
	export LD_LIBRARY_PATH="$PWD/$ob/usr/lib/x86_64-linux-gnu/openblas-openmp${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
fi

# The host's state: the FMA rate of one GEMM micro-kernel alone and of two
# copies at once. Two real cores give ~2x; a second tenant on the sibling
# hardware thread gives ~1x, and then no timing here is representative.
fma_probe() {
	local t=.cache/gemm-kernel.test
	[[ -x $t ]] || go test -c -o "$t" ./pkg/gemm >/dev/null
	local k=Kernel/avx2
	grep -q avx512f /proc/cpuinfo 2>/dev/null && k=Kernel/avx512
	local one two
	one=$("$t" -test.run '^$' -test.bench "$k" -test.cpu 1 -test.benchtime 0.3s 2>/dev/null | awk '/GFLOP/ {print $(NF-1)}')
	two=$( ("$t" -test.run '^$' -test.bench "$k" -test.cpu 1 -test.benchtime 0.3s 2>/dev/null &
		"$t" -test.run '^$' -test.bench "$k" -test.cpu 1 -test.benchtime 0.3s 2>/dev/null
		wait) | awk '/GFLOP/ {s += $(NF-1)} END {print s}')
	echo "host FMA probe ($1): one kernel ${one:-?} GFLOP/s, two at once ${two:-?} GFLOP/s in all (two real cores: ~2x)" >&2
}
mkdir -p .cache
fma_probe before

declare -A d2v torch
for r in $(seq "$rounds"); do
	for c in "${configs[@]}"; do
		args=() cfg="configs/bench-$c.yaml" sets=()
		case $c in
		m) args=(--dim 256 --ffn 1024 --layers 4) ;;
		s-patches) args=(--input patches) ;;
		s-t256) cfg=configs/bench-s.yaml args=(--seq 256) sets=(--set modalities.tokens.seq_len=256) ;;
		v2) args=(--method data2vec2) ;;
		v2-patches) args=(--method data2vec2 --input patches --cls) ;;
		esac
		d2v[$c]+="$(bin/d2v bench -c "$cfg" "${sets[@]}" --steps 20 --warmup 5 | field median_step_ms) "
		if ((have_torch)); then
			torch[$c]+="$(/usr/bin/python3 "$ref" --threads 2 "${args[@]}" | field median_step_ms) "
		fi
		echo "round $r config ${c^^} done" >&2
	done
done

fma_probe after
printf '%-10s %14s %14s %7s\n' config "d2v ms/step" "torch ms/step" ratio
line="ratio"
for c in "${configs[@]}"; do
	dm=$(tr ' ' '\n' <<<"${d2v[$c]}" | grep . | median_of)
	if ((have_torch)); then
		tm=$(tr ' ' '\n' <<<"${torch[$c]}" | grep . | median_of)
		ratio=$(awk -v a="$dm" -v b="$tm" 'BEGIN {printf "%.2f", a/b}')
		printf '%-10s %14.2f %14.2f %7s\n' "${c^^}" "$dm" "$tm" "$ratio"
		[[ $c == s || $c == m || $c == v2 ]] && line+=" ${c^^}=$ratio"
	else
		printf '%-10s %14.2f %14s %7s\n' "${c^^}" "$dm" "-" "-"
	fi
done
echo "d2v runs per config: ${rounds} rounds x 20 timed steps (median of medians); GOMAXPROCS=2, torch --threads 2"
if ((have_torch)); then
	echo "$line"
else
	echo "PyTorch reference missing (need /usr/bin/python3 with torch and $ref): d2v figures only"
fi
