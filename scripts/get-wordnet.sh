#!/usr/bin/env bash
# get-wordnet.sh: make sure the WordNet 3.0 database is installed and print
# the folder to pass to data.LoadWordNet.
#
#   scripts/get-wordnet.sh        install Debian's wordnet-base if needed, print its folder
#
# WordNet 3.0 (Princeton University; WordNet 3.0 licence, BSD-like) comes
# from the Debian/Ubuntu package wordnet-base, which installs data.noun,
# data.verb, data.adj and data.adv under /usr/share/wordnet (it ships no
# lexnames file; LoadWordNet then uses the built-in WordNet 3.0 list).
# Set WNHOME to use another folder holding the data.* files instead.
set -euo pipefail

die() { echo "get-wordnet.sh: $*" >&2; exit 1; }

has_db() { [[ -f "$1/data.noun" && -f "$1/data.verb" ]]; }

if [[ -n "${WNHOME:-}" ]]; then
	for d in "$WNHOME" "$WNHOME/dict"; do
		if has_db "$d"; then echo "$d"; exit 0; fi
	done
	die "WNHOME=$WNHOME: no data.noun and data.verb there or in its dict/ folder"
fi

dir=/usr/share/wordnet
if ! has_db "$dir"; then
	command -v apt-get >/dev/null || die "$dir: no WordNet database, and no apt-get to install wordnet-base"
	sudo=()
	if [[ $(id -u) -ne 0 ]]; then
		command -v sudo >/dev/null || die "installing wordnet-base needs root (run as root or install sudo)"
		sudo=(sudo)
	fi
	echo "installing wordnet-base..." >&2
	"${sudo[@]}" apt-get update >&2
	DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y wordnet-base >&2
	if ! has_db "$dir"; then
		# Fall back to wherever the package put data.noun.
		f=$(dpkg -L wordnet-base 2>/dev/null | grep '/data\.noun$' | head -n1 || true)
		[[ -n "$f" ]] || die "wordnet-base installed but no data.noun found (dpkg -L wordnet-base)"
		dir=$(dirname "$f")
		has_db "$dir" || die "$dir: data.verb missing"
	fi
fi
echo "$dir"
