#!/usr/bin/env bash
# Short fuzz run (CI): every Fuzz* target under cmd/, internal/ and pkg/ for
# FUZZTIME each (default 5s), one target per `go test -fuzz` invocation (Go
# fuzzes one target at a time). Targets are found by grep, so a new fuzzer
# is run without editing this script. Seed corpora: the f.Add seeds in each
# fuzzer plus <pkg>/testdata/fuzz/<Target>/ (also run by plain `go test`).
# A failing input is written to <pkg>/testdata/fuzz/<Target>/ and the script
# exits non-zero; commit that file with the fix so it stays a regression test.
#
#   scripts/fuzz.sh                 # all targets, 5s each
#   FUZZTIME=1m scripts/fuzz.sh pkg/data   # one package, longer
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime=${FUZZTIME:-5s}
roots=("$@")
[ ${#roots[@]} -eq 0 ] && roots=(cmd internal pkg)
n=0
start=$SECONDS
while IFS=: read -r file target; do
	pkg=./$(dirname "$file")
	echo "fuzz: $pkg $target ($fuzztime)"
	go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" "$pkg" 2>&1 | grep -v '^fuzz: elapsed' || {
		echo "fuzz: $pkg $target FAILED" >&2
		exit 1
	}
	n=$((n + 1))
done < <(grep -rHo --include='*_test.go' '^func Fuzz[A-Za-z0-9_]*' "${roots[@]}" | sed 's/func //' | sort)
echo "fuzz: $n targets passed in $((SECONDS - start))s"
