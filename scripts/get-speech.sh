#!/usr/bin/env bash
# get-speech.sh: make the speech data for the audio modality (issue 5).
#
# Synthesises the spoken digits "zero".."nine" (and, with --keywords, ten
# command words) with Debian's espeak-ng over many English voices (accent x
# voice variant), speeds (-s, words per minute) and pitches (-p, 0..99), and
# converts each clip with `sox -D` (no dither, so byte-reproducible) to 16 kHz
# mono 16-bit PCM WAV, trimmed to the speech plus 50 ms of silence each side
# and peak-normalised to -3 dBFS.
# Layout, as speech.LoadDir reads it:
#
#   <out>/<class>/<voice>_s<speed>_p<pitch>.wav
#
# where <voice> is "<accent>+<variant>" (e.g. en-gb-scotland+m3): the speed
# and pitch versions of one voice share the voice id, so a voice-disjoint split
# (speech.Set.SplitByVoice) never tests on a voice it trained on.
#
# With --asterisk DIR it also copies the real recordings of Debian's
# asterisk-core-sounds-en-wav (one speaker, "Allison", 8 kHz, CC BY-SA 3.0)
# into DIR as a flat, unlabelled folder for pretraining; they stay at 8 kHz
# and are resampled by the loader. With --real-digits it also copies that
# speaker's ten digit recordings into the labelled folder as one more voice,
# <out>/<digit>/allison_asterisk.wav (8 kHz): a real voice to test on (but
# do not then pretrain on --asterisk, which holds the same speaker).
#
# Usage:
#   scripts/get-speech.sh                       # full set -> data/speech/digits
#   scripts/get-speech.sh --keywords -o DIR     # digits + keywords -> DIR
#   scripts/get-speech.sh --asterisk data/speech/asterisk
#   scripts/get-speech.sh --speeds "175" --pitches "50" -o DIR   # one take per voice
#   scripts/get-speech.sh --small --pack pkg/speech/digits/digits.tar.gz
#                                               # regenerate the embedded set
# Needs: apt-get install -y espeak-ng sox (and asterisk-core-sounds-en-wav
# for --asterisk). Load the result with speech.LoadDir, e.g. in a config:
# data.source=folder, data.path=data/speech/digits.
set -euo pipefail

out=data/speech/digits
small=0
keywords=0
pack=""
asterisk=""
real_digits=0
jobs=$(nproc 2>/dev/null || echo 4)

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit "${1:-2}"; }
while [ $# -gt 0 ]; do
	case "$1" in
	-o | --out) out=$2; shift 2 ;;
	--small) small=1; shift ;;
	--keywords) keywords=1; shift ;;
	--pack) pack=$2; shift 2 ;;
	--speeds) read -ra speeds_opt <<<"${2//,/ }"; shift 2 ;;
	--pitches) read -ra pitches_opt <<<"${2//,/ }"; shift 2 ;;
	--asterisk) asterisk=$2; shift 2 ;;
	--real-digits) real_digits=1; shift ;;
	-j | --jobs) jobs=$2; shift 2 ;;
	-h | --help) usage 0 ;;
	*) echo "get-speech.sh: unknown argument $1" >&2; usage 2 ;;
	esac
done
for tool in espeak-ng sox; do
	command -v "$tool" >/dev/null || { echo "get-speech.sh: $tool not found; run: apt-get install -y espeak-ng sox" >&2; exit 1; }
done

# English accents of espeak-ng (`espeak-ng --voices=en`, gmw/ files; the mb/
# voices need mbrola and are left out).
accents=(en en-us en-gb-scotland en-gb-x-rp en-gb-x-gbclan en-gb-x-gbcwmd en-029 en-us-nyc)
# Voice variants (`espeak-ng --voices=variant`): the plain male/female and
# klatt ones plus named human-sounding ones; whisper, croak, robots and other
# effects are left out.
variants=(m1 m2 m3 m4 m5 m6 m7 m8 f1 f2 f3 f4 f5 klatt klatt2 klatt3 klatt4 klatt5
	adam Andy Annie aunty belinda benjamin david ed edward iven john linda max
	michel paul pedro quincy rob robert steph travis victor zac grandma grandpa shelby)
# espeak-ng silently falls back to its default voice for an unknown accent or
# variant (names are case-sensitive: "Annie", not "annie"), which would give
# two voice ids the same voice; so check every name first.
data=$(espeak-ng --version | sed -n 's/.*Data at: //p')
known=$(espeak-ng --voices=en | awk 'NR > 1 {print $2}')
for a in "${accents[@]}"; do
	grep -qx -- "$a" <<<"$known" || { echo "get-speech.sh: espeak-ng has no English voice $a" >&2; exit 1; }
done
# Some variant files differ but sound the same (klatt6 and caleb give the
# output of klatt), so also require distinct audio for one test word.
check_variants() {
	local v sums
	for v in "$@"; do
		[ -f "$data/voices/!v/$v" ] || { echo "get-speech.sh: espeak-ng has no variant $v ($data/voices/!v/)" >&2; exit 1; }
	done
	sums=$(for v in "$@"; do echo "$(espeak-ng -v "en+$v" --stdout seven | md5sum | cut -c1-32) $v"; done | sort)
	if [ -n "$(cut -d' ' -f1 <<<"$sums" | uniq -d)" ]; then
		echo "get-speech.sh: these variants sound identical: $(awk '{print $1}' <<<"$sums" | uniq -d | while read -r h; do grep "^$h" <<<"$sums" | cut -d' ' -f2 | tr '\n' ' '; done)" >&2
		exit 1
	fi
}
check_variants "${variants[@]}"
speeds=(130 175 220) # words per minute (espeak default 175)
pitches=(35 65)      # 0..99 (espeak default 50)
if [ -n "${speeds_opt+x}" ]; then speeds=("${speeds_opt[@]}"); fi
if [ -n "${pitches_opt+x}" ]; then pitches=("${pitches_opt[@]}"); fi
for n in "${speeds[@]}" "${pitches[@]}"; do
	[[ $n =~ ^[0-9]+$ ]] || { echo "get-speech.sh: speeds and pitches must be whole numbers, got $n" >&2; exit 2; }
done
words=(zero one two three four five six seven eight nine)
if [ "$keywords" = 1 ]; then
	words+=(yes no up down left right on off stop go)
fi

# jobs.txt: one "voice speed pitch word" per clip.
list=$(mktemp)
trap 'rm -f "$list"' EXIT
if [ "$small" = 1 ]; then
	# The embedded set: 24 voices, each accent with 3 variants and each
	# variant used once, so a held-out voice has an unseen accent+variant
	# pair and an unseen variant; 2 prosodies per voice; digits only.
	small_variants=(m1 m2 m3 m4 m5 m6 m7 f1 f2 f3 f4 f5 klatt klatt2 klatt3 klatt4 klatt5
		adam Annie belinda david john linda steph)
	check_variants "${small_variants[@]}"
	for a in "${!accents[@]}"; do
		for k in 0 1 2; do
			i=$((3 * a + k))
			v="${accents[$a]}+${small_variants[$(((a + 8 * k) % 24))]}"
			s1=$((140 + 20 * (i % 2))) p1=$((35 + 15 * (i % 3))) # a slower, lower take
			s2=$((180 + 20 * (i % 2))) p2=$((65 - 15 * (i % 3))) # a faster, higher one
			for w in zero one two three four five six seven eight nine; do
				echo "$v $s1 $p1 $w"
				echo "$v $s2 $p2 $w"
			done
		done
	done >"$list"
else
	for a in "${accents[@]}"; do
		for v in "${variants[@]}"; do
			for s in "${speeds[@]}"; do
				for p in "${pitches[@]}"; do
					for w in "${words[@]}"; do
						echo "$a+$v $s $p $w"
					done
				done
			done
		done
	done >"$list"
fi
sort -u -o "$list" "$list"

mkdir -p "$out"
echo "get-speech.sh: $(wc -l <"$list") clips, $(cut -d' ' -f1 "$list" | sort -u | wc -l) voices -> $out ($jobs jobs)"
# One clip: espeak-ng writes 22050 Hz WAV to stdout; sox trims leading and
# trailing silence (below -50 dBFS), pads 50 ms each side, scales the peak
# to -3 dBFS (some variants clip otherwise) and resamples.
synth() {
	local voice=$1 speed=$2 pitch=$3 word=$4 out=$SPEECH_OUT
	local f="$out/$word/${voice}_s${speed}_p${pitch}.wav"
	[ -s "$f" ] && return 0
	mkdir -p "$out/$word"
	espeak-ng -v "$voice" -s "$speed" -p "$pitch" --stdout "$word" |
		sox -D -t wav - -t wav -b 16 -e signed-integer -c 1 "$f.tmp" \
			silence 1 0.005 -50d reverse silence 1 0.005 -50d reverse pad 0.05 0.05 gain -n -3 rate 16000
	mv "$f.tmp" "$f"
}
export -f synth
export SPEECH_OUT=$out
xargs -P "$jobs" -L 1 bash -c 'synth "$@"' _ <"$list"

src=/usr/share/asterisk/sounds/en_US_f_Allison
if [ -n "$asterisk" ] || [ "$real_digits" = 1 ]; then
	[ -d "$src" ] || { echo "get-speech.sh: $src missing; run: apt-get install -y asterisk-core-sounds-en-wav" >&2; exit 1; }
fi
if [ "$real_digits" = 1 ]; then
	for i in 0 1 2 3 4 5 6 7 8 9; do
		cp "$src/digits/$i.wav" "$out/${words[$i]}/allison_asterisk.wav"
	done
	echo "get-speech.sh: 10 real digits (asterisk, 8 kHz, CC BY-SA 3.0) -> $out/<digit>/allison_asterisk.wav"
fi
if [ -n "$asterisk" ]; then
	mkdir -p "$asterisk"
	n=0
	# Flat copy, voice id "allison": <sub>-<name>.wav keeps names unique.
	while IFS= read -r f; do
		rel=${f#"$src"/}
		cp "$f" "$asterisk/allison_${rel//\//-}"
		n=$((n + 1))
	done < <(find "$src" -name '*.wav' ! -path '*/silence/*' | sort)
	cp /usr/share/doc/asterisk-core-sounds-en-wav/copyright "$(dirname "$asterisk")/asterisk-COPYRIGHT.txt"
	echo "get-speech.sh: $n asterisk recordings (8 kHz, CC BY-SA 3.0) -> $asterisk"
fi

if [ -n "$pack" ]; then
	mkdir -p "$(dirname "$pack")"
	# Reproducible archive: sorted names, fixed mtime and owner, gzip -n.
	tar -C "$out" --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner --format=ustar \
		-cf - "${words[@]}" | gzip -n -9 >"$pack"
	echo "get-speech.sh: packed $(find "$out" -name '*.wav' | wc -l) clips -> $pack ($(wc -c <"$pack") bytes)"
fi
