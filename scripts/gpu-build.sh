#!/usr/bin/env bash
# gpu-build.sh: build d2v with CUDA (-tags d2vcuda) on a GPU host that has
# CUDA but no Go toolchain and no network.
#
#   scripts/gpu-build.sh pack    here (Go and the module cache at hand): writes
#                                .gpu/go.tar.xz (a stripped Go toolchain),
#                                .gpu/vendor.tar.xz (every module the build
#                                needs) and .gpu/ref_step.py, and checks that the
#                                working tree plus .gpu fits the device tool's
#                                64 MiB carry.
#   scripts/gpu-build.sh build   on the GPU host (carry .gpu): unpacks both into
#                                /tmp, finds cuda.h, cublas_v2.h, libcuda and
#                                libcublas, and builds /tmp/d2v-gpu/{d2v,
#                                gpu.test,cuda.test}. Prints `gpu-build: ok` last.
#
# The tag is d2vcuda, not cuda: -tags cuda would also switch Gorgonia to its
# own CUDA VM (cuDNN, generated kernels); see docs/GPU.md.
set -euo pipefail
cd "$(dirname "$0")/.."
carry=.gpu
limit=$((64 * 1024 * 1024))

pack() {
	local goroot tmp
	goroot=$(go env GOROOT)
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' RETURN
	mkdir -p "$carry"
	grep -qx '/.gpu/' .git/info/exclude 2>/dev/null || echo '/.gpu/' >>.git/info/exclude
	# Toolchain: the go command, the tools a cgo build and `go test -c` run,
	# and the standard library's sources (no tests, testdata, cmd or docs).
	# Packed again only when the Go version changes (it takes minutes).
	local ver
	ver=$(go version | cut -d' ' -f3)
	if [[ ! -f $carry/go.tar.xz || $(cat "$carry/go.version" 2>/dev/null) != "$ver" ]]; then
		echo "gpu-build: packing $ver from $goroot"
		tar -C "$goroot/.." -cf - \
			--exclude='*_test.go' --exclude='testdata' --exclude='go/src/cmd' \
			go/VERSION go/go.env go/bin/go go/pkg/include \
			go/pkg/tool/linux_amd64/{compile,link,asm,cgo,vet} go/src |
			xz -T0 -6 >"$carry/go.tar.xz"
		echo "$ver" >"$carry/go.version"
	fi
	# Modules: `go mod vendor` in a scratch copy (a vendor/ folder here would
	# switch everyone's builds in this tree to vendor mode).
	# the working tree as it will travel (tracked and untracked-not-ignored)
	git ls-files -z --cached --others --exclude-standard | tar --null -T - -cf - 2>/dev/null | tar -C "$tmp" -xf -
	(cd "$tmp" && go mod vendor -o vendor)
	tar -C "$tmp" -cf - vendor | xz -T0 -6 >"$carry/vendor.tar.xz"
	install -m 644 "${D2V_REF:-../shared/reference/ref_step.py}" "$carry/ref_step.py"
	local tree total
	tree=$(git ls-files -z --cached --others --exclude-standard | xargs -0 du -cb 2>/dev/null | tail -1 | cut -f1)
	total=$((tree + $(du -cb "$carry" | tail -1 | cut -f1)))
	ls -l "$carry"
	echo "gpu-build: working tree $((tree / 1048576)) MiB + $carry $(($(du -cb "$carry" | tail -1 | cut -f1) / 1048576)) MiB = $((total / 1048576)) MiB (limit 64)"
	if ((total > limit)); then
		echo "gpu-build: over the device tool's 64 MiB carry" >&2
		exit 1
	fi
}

# first existing path among the arguments (globs allowed)
first() {
	local p
	for p in "$@"; do
		[[ -e $p ]] && { echo "$p"; return 0; }
	done
	return 1
}

build() {
	local out=${D2V_GPU_OUT:-/tmp/d2v-gpu}
	mkdir -p "$out" /tmp/d2v-go
	[[ -x /tmp/d2v-go/go/bin/go ]] || xz -dc "$carry/go.tar.xz" | tar -C /tmp/d2v-go -xf -
	[[ -d vendor ]] || xz -dc "$carry/vendor.tar.xz" | tar -xf -
	export GOROOT=/tmp/d2v-go/go PATH=/tmp/d2v-go/go/bin:$PATH GOTOOLCHAIN=local GOFLAGS=-mod=vendor \
		GOPROXY=off GOCACHE=/tmp/d2v-go/cache GOPATH=/tmp/d2v-go/path CGO_ENABLED=1
	go version
	command -v gcc >/dev/null || { echo "gpu-build: no gcc (cgo needs a C compiler)" >&2; exit 1; }
	# CUDA: the toolkit beside nvcc, else CUDA_HOME, else pip's nvidia-* wheels.
	local cuda site inc lib cublas libcuda links
	cuda=${CUDA_HOME:-$(first /usr/local/cuda "$(dirname "$(dirname "$(command -v nvcc || echo /none/bin/nvcc)")")" || true)}
	site=$(python3 -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])' 2>/dev/null || true)
	inc=$(dirname "$(first "$cuda/include/cuda.h" "$cuda"/targets/*/include/cuda.h "$site"/nvidia/cu*/include/cuda.h)") ||
		{ echo "gpu-build: cuda.h not found (set CUDA_HOME)" >&2; exit 1; }
	local binc
	binc=$(dirname "$(first "$inc/cublas_v2.h" "$cuda"/targets/*/include/cublas_v2.h "$site"/nvidia/cublas/include/cublas_v2.h "$site"/nvidia/cu*/include/cublas_v2.h)") ||
		{ echo "gpu-build: cublas_v2.h not found" >&2; exit 1; }
	cublas=$(first "$cuda"/lib64/libcublas.so "$cuda"/lib64/libcublas.so.* "$cuda"/targets/*/lib/libcublas.so.* "$site"/nvidia/cublas/lib/libcublas.so.* "$site"/nvidia/cu*/lib/libcublas.so.* /usr/lib/x86_64-linux-gnu/libcublas.so) ||
		{ echo "gpu-build: libcublas not found" >&2; exit 1; }
	libcuda=$(first "$cuda"/lib64/stubs/libcuda.so "$cuda"/targets/*/lib/stubs/libcuda.so /usr/lib/x86_64-linux-gnu/stubs/libcuda.so /usr/local/nvidia/lib64/libcuda.so.1 /usr/lib/x86_64-linux-gnu/libcuda.so.1 /usr/lib64/libcuda.so.1) ||
		{ echo "gpu-build: libcuda not found" >&2; exit 1; }
	# -lcuda / -lcublas want unversioned names: link through symlinks.
	links=/tmp/d2v-go/links
	mkdir -p "$links"
	ln -sf "$cublas" "$links/libcublas.so"
	ln -sf "$libcuda" "$links/libcuda.so"
	lib=$(dirname "$cublas")
	export CGO_CFLAGS="-I$inc -I$binc" CGO_LDFLAGS="-L$links -Wl,-rpath,$lib"
	export LD_LIBRARY_PATH="$lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
	echo "gpu-build: cuda.h $inc; cublas $cublas; libcuda $libcuda"
	grep -m1 '#define CUDA_VERSION' "$inc/cuda.h"
	go build -tags d2vcuda -o "$out/d2v" ./cmd/d2v
	go test -vet=off -tags d2vcuda -c -o "$out/gpu.test" ./pkg/gpu
	go test -vet=off -tags d2vcuda -c -o "$out/cuda.test" ./pkg/cuda
	echo "export LD_LIBRARY_PATH=$LD_LIBRARY_PATH" >"$out/env.sh"
	ls -l "$out"
	echo "gpu-build: ok"
}

case ${1:-} in
pack) pack ;;
build) build ;;
*)
	echo "usage: scripts/gpu-build.sh pack|build" >&2
	exit 2
	;;
esac
