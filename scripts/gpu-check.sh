#!/usr/bin/env bash
# gpu-check.sh: THE check to run on a GPU host, in under 8 minutes: build
# with CUDA, test each kernel against the Go emulation, replay the PyTorch
# parity fixtures on the GPU, run a short GPU pretraining, then time the
# S and M steps next to PyTorch on the same card and print a table.
#
# Prepare here first (minutes): scripts/gpu-build.sh pack
# Then, with the device tool: carry [".gpu"], command
#   bash scripts/gpu-check.sh
# Everything it prints also goes to $OUT/gpu-check.log (or /tmp). It goes on
# after a failed section and exits non-zero if any failed. Section limits
# add up to 590 s (build 300, unmeasured there: the cold build took 4 to 7.5
# min on 2 busy cores here); a normal run should need well under 8 minutes.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
log=${OUT:-/tmp}/gpu-check.log
exec > >(tee "$log") 2>&1
t0=$(date +%s)
declare -a summary
failed=0

# section NAME LIMIT_S CMD...: run with a time limit, record the result.
section() {
	local name=$1 limit=$2 s rc
	shift 2
	s=$(date +%s)
	echo "=== $name (limit ${limit}s, at +$((s - t0))s)"
	timeout "$limit" "$@"
	rc=$?
	summary+=("$(printf '%-28s %-4s %4ss' "$name" "$([[ $rc == 0 ]] && echo ok || echo "FAIL($rc)")" $(($(date +%s) - s)))")
	((rc == 0)) || failed=1
	return $rc
}

nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
section env 15 bash -c 'command -v gcc && gcc --version | head -1; command -v nvcc && nvcc --version | tail -1;
	python3 -c "import torch; print(\"torch\", torch.__version__, torch.cuda.is_available())"'
section build "${D2V_BUILD_LIMIT:-300}" scripts/gpu-build.sh build || { printf '%s\n' "${summary[@]}"; exit 1; }
# shellcheck disable=SC1091
source /tmp/d2v-gpu/env.sh
bin=/tmp/d2v-gpu
section kernels-vs-emu 30 bash -o pipefail -c "cd pkg/cuda && $bin/cuda.test -test.v -test.run TestKernelsMatchEmu"
section parity-cuda 45 bash -o pipefail -c "cd pkg/gpu && $bin/gpu.test -test.v -test.run TestParityCUDA"
section pretrain-vision-cuda 30 "$bin/d2v" pretrain --device cuda --steps 100 --set run.dir=/tmp/d2v-runs --name vision --set run.progress=false
section pretrain-text-cuda 30 "$bin/d2v" pretrain --device cuda -c configs/text-tiny.yaml --steps 50 --set run.dir=/tmp/d2v-runs --name text --set run.progress=false

field() { grep -o "\"$1\": *[0-9.e+-]*" | head -1 | cut -d: -f2 | tr -d ' '; }
declare -A ms
for c in s m; do
	args=()
	[[ $c == m ]] && args=(--dim 256 --ffn 1024 --layers 4)
	section "bench-$c-d2v-cuda" 30 bash -o pipefail -c "$bin/d2v bench -c configs/bench-$c.yaml --device cuda --steps 50 --warmup 10 | tee /tmp/d2v-bench-$c.json"
	ms[d2v-$c]=$(field median_step_ms </tmp/d2v-bench-$c.json 2>/dev/null)
	section "bench-$c-torch-cuda" 40 bash -o pipefail -c "python3 .gpu/ref_step.py --device cuda --steps 50 --warmup 10 ${args[*]} | tee /tmp/torch-bench-$c.json"
	ms[torch-$c]=$(field median_step_ms </tmp/torch-bench-$c.json 2>/dev/null)
done

echo
echo "=== summary (+$(($(date +%s) - t0))s)"
printf '%s\n' "${summary[@]}"
echo
gpu=$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1)
echo "median ms/step on ${gpu:-the GPU} (50 steps after 10 warm-up)"
printf '| %-6s | %-12s | %-16s | %-12s |\n' config "d2v cuda" "PyTorch eager" "d2v/PyTorch"
for c in s m; do
	d=${ms[d2v-$c]:-} p=${ms[torch-$c]:-} r=-
	[[ -n $d && -n $p ]] && r=$(awk -v a="$d" -v b="$p" 'BEGIN{printf "%.2f", a/b}')
	printf '| %-6s | %-12s | %-16s | %-12s |\n' "${c^^}" "${d:-n/a}" "${p:-n/a}" "$r"
done
exit $failed
