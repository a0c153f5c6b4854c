#!/usr/bin/env bash
# Compiles pkg/cuda/kernels/d2v.cu to PTX (embedded by pkg/cuda with
# go:embed) and assembles it with ptxas as a check. Needs nvcc (CUDA 11.8+).
#   scripts/gen-ptx.sh           regenerate pkg/cuda/kernels/d2v.ptx
#   scripts/gen-ptx.sh --check   compile to a temporary file and report
#                                whether the committed PTX is up to date
# ARCH (default compute_90, H100/H200) picks the virtual architecture.
set -euo pipefail
cd "$(dirname "$0")/.."
arch=${ARCH:-compute_90}
src=pkg/cuda/kernels/d2v.cu
dst=pkg/cuda/kernels/d2v.ptx
command -v nvcc >/dev/null || { echo "gen-ptx: nvcc not found (Debian: apt-get install nvidia-cuda-toolkit)" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
nvcc --version | tail -1
nvcc -arch="$arch" -ptx -O3 -fmad=false -o "$tmp/d2v.ptx" "$src"
sm=${arch/compute_/sm_}
ptxas -arch="$sm" "$tmp/d2v.ptx" -o "$tmp/d2v.cubin"
echo "gen-ptx: $(grep -c '^.visible .entry' "$tmp/d2v.ptx") kernels, PTX $(grep -m1 '^.version' "$tmp/d2v.ptx" | cut -d' ' -f2), ptxas $sm ok"
if [[ ${1:-} == --check ]]; then
	# the header names the compiler build; compare the code only
	if diff -q <(grep -v '^//' "$tmp/d2v.ptx") <(grep -v '^//' "$dst") >/dev/null; then
		echo "gen-ptx: $dst is up to date"
	else
		echo "gen-ptx: $dst is stale: run scripts/gen-ptx.sh" >&2
		exit 1
	fi
else
	cp "$tmp/d2v.ptx" "$dst"
	echo "gen-ptx: wrote $dst"
fi
