#!/usr/bin/env bash
# scripts/test.sh: the whole test suite, the README's test command (and .ci/run's).
# gofmt, go mod tidy, vet + go test (pure Go), then the Open MPI tests (installs Open MPI with
# apt-get if missing; -tags mpi, cgo), then a short fuzz run of every target.
# `go test ./...` alone is the quick pure-Go subset.
set -euo pipefail
cd "$(dirname "$0")/.."
go version
if unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go')) && [[ -n $unformatted ]]; then
	echo "gofmt: these files need gofmt -w: $unformatted" >&2
	exit 1
fi
# go.mod and go.sum stay tidy (go mod tidy -diff: non-zero and the diff when
# tidying would change them)
if ! tidy=$(go mod tidy -diff); then
	echo "go.mod/go.sum are not tidy: run go mod tidy; it would change:" >&2
	echo "$tidy" >&2
	exit 1
fi
go vet ./...
go test -count=1 ./...
# data-parallel pretraining over Open MPI (-tags mpi, cgo; docs/DISTRIBUTED.md):
# install Open MPI if missing, check the collectives on 3 ranks, then the
# 2-rank equivalence, resume and failure tests under mpirun (about a minute)
if ! command -v mpirun >/dev/null || ! pkg-config --exists ompi-c 2>/dev/null; then
	sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
	$sudo env DEBIAN_FRONTEND=noninteractive apt-get -qq update
	$sudo env DEBIAN_FRONTEND=noninteractive apt-get -qq install -y libopenmpi-dev openmpi-bin pkg-config >/dev/null
fi
go vet -tags mpi ./pkg/dist ./cmd/d2v
mpitmp=$(mktemp -d); trap 'rm -rf "$mpitmp"' EXIT
go test -c -tags mpi -o "$mpitmp/dist.test" ./pkg/dist
mpirun --allow-run-as-root --oversubscribe -np 3 "$mpitmp/dist.test" -test.run World
go test -tags mpi -count=1 -run MPI ./cmd/d2v
# a short fuzz run: every Fuzz* target for 5s (about 2 minutes on 2 cores)
scripts/fuzz.sh
