#!/usr/bin/env bash
# kill-resume.sh [SECONDS]: crash-safety check by hand.
#
# Builds bin/d2v, starts `d2v pretrain -c configs/tiny.yaml --steps 200`,
# SIGKILLs it after SECONDS (default 2), resumes it with --resume, runs the
# same training uninterrupted, and compares the two final checkpoints with
# cmp (checkpoints are written deterministically, so identical state gives
# identical bytes) and the metrics (all fields but step_ms). Prints PASS or
# FAIL and exits 0 or 1; exits 2 if the kill came too late to test anything.
set -euo pipefail

secs=${1:-2}
cd "$(dirname "$0")/.."

echo "building bin/d2v"
go build -o bin/d2v ./cmd/d2v

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Both runs use the same run.dir and name: they are part of the config that
# every checkpoint carries in its metadata, so they must match for cmp.
args=(pretrain -c configs/tiny.yaml --steps 200 --set "run.dir=$work/runs" --name kr)
run="$work/runs/kr"
final=ckpt-00000200.safetensors

echo "run 1: starting, SIGKILL after ${secs}s"
bin/d2v "${args[@]}" 2>"$work/killed.log" &
pid=$!
sleep "$secs"
kill -KILL "$pid" 2>/dev/null || true
rc=0
{ wait "$pid"; } 2>/dev/null || rc=$?
if [[ $rc -ne 137 ]]; then
	echo "run 1 was not killed (exit $rc): it finished in under ${secs}s; try a smaller SECONDS, e.g. $0 0.5"
	exit 2
fi
left=$(cd "$run" 2>/dev/null && ls ckpt-*.safetensors 2>/dev/null | tr '\n' ' ' || true)
left=${left% }
tmps=$(cd "$run" 2>/dev/null && ls -a | grep -c '^\.tmp-' || true)
echo "run 1: killed; $({ wc -l <"$run/metrics.jsonl"; } 2>/dev/null || echo 0) metrics lines, checkpoints: ${left:-none}; temp files left: ${tmps:-0}"

echo "run 1: resuming"
rc=0
bin/d2v pretrain --resume "$run" 2>"$work/resume.log" || rc=$?
if [[ $rc -eq 2 && -z "$left" ]]; then
	echo "run 1: killed before its first checkpoint; resume refused as it should: $(tail -1 "$work/resume.log")"
	echo "run 1: starting over"
	bin/d2v "${args[@]}" 2>>"$work/resume.log"
elif [[ $rc -ne 0 ]]; then
	echo "FAIL: resume exited $rc:"
	cat "$work/resume.log"
	exit 1
else
	head -1 "$work/resume.log"
fi
mv "$run" "$work/resumed"

echo "run 2: uninterrupted"
bin/d2v "${args[@]}" 2>"$work/ref.log"

ok=1
if cmp "$work/resumed/$final" "$run/$final"; then
	echo "checkpoints: $final identical ($(wc -c <"$run/$final") bytes)"
else
	ok=0
fi
strip() { sed 's/,"step_ms":[^,}]*//' "$1"; }
if diff <(strip "$work/resumed/metrics.jsonl") <(strip "$run/metrics.jsonl") >"$work/metrics.diff"; then
	echo "metrics: $(wc -l <"$run/metrics.jsonl") lines identical (step_ms aside)"
else
	echo "metrics differ:"
	head -20 "$work/metrics.diff"
	ok=0
fi
if [[ $ok -eq 1 ]]; then
	echo PASS
else
	echo FAIL
	exit 1
fi
