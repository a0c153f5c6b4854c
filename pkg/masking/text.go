package masking

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Text masking works on token ids. special reports the ids that are never
// masked (<s>, </s>, <pad>; include <mask> and <unk> if the vocabulary has
// them): they keep their place and value, so only the non-special
// positions of a sequence count towards n.
//
// Packed sequences hold different numbers of special tokens (document
// boundaries, tail padding), so a fixed n must fit the sequence with the
// fewest non-special tokens in the data: compute it with TextCount over
// that minimum (or drop the padded tail sequence) and check it once with
// ValidateText.

// TextCount returns the number of masked tokens for a mask ratio over
// nonSpecial maskable tokens: floor(ratio*nonSpecial + 0.5), rounded half
// up like Count, clamped to [1, nonSpecial]. Unlike Count it may mask
// every maskable token, since the special tokens stay visible. It returns
// 0 (rejected by ValidateText) when nonSpecial < 1.
func TextCount(ratio float64, nonSpecial int) int {
	if nonSpecial < 1 {
		return 0
	}
	n := int(math.Floor(ratio*float64(nonSpecial) + 0.5))
	return min(max(n, 1), nonSpecial)
}

// ValidateText reports whether n of nonSpecial maskable tokens can be
// masked: 1 <= n <= nonSpecial.
func ValidateText(nonSpecial, n int) error {
	if nonSpecial < 1 {
		return fmt.Errorf("masking: text: no maskable token: every token of the sequence is special (got %d non-special)", nonSpecial)
	}
	if n < 1 || n > nonSpecial {
		return fmt.Errorf("masking: n: masked count must be in [1, %d] for %d non-special tokens, got %d; lower mask_prob or drop short sequences", nonSpecial, nonSpecial, n)
	}
	return nil
}

// NonSpecial returns how many ids are not special: the maskable count.
func NonSpecial(ids []int, special func(id int) bool) int {
	c := 0
	for _, id := range ids {
		if !special(id) {
			c++
		}
	}
	return c
}

// BERTSplit returns how BERT divides n masked positions: mask =
// floor(0.8n + 0.5) become the mask id, random = floor(0.1n + 0.5) (at
// most n - mask) become a random token, keep = the rest stay unchanged.
// Exact counts instead of per-token coin flips (BERT's and fairseq's way)
// keep every sample's split identical; e.g. n = 15 gives 12/2/1 and
// n = 4 gives 3/0/1.
func BERTSplit(n int) (mask, random, keep int) {
	mask = int(math.Floor(0.8*float64(n) + 0.5))
	random = min(int(math.Floor(0.1*float64(n)+0.5)), n-mask)
	return mask, random, n - mask - random
}

// BERT masks exactly n of the non-special positions of ids, every
// n-subset equally likely (Devlin et al., 2019, §3.1; data2vec's text
// setting, Baevski et al., 2022, §4.3). Of the chosen positions, chosen
// at random, BERTSplit(n) decides how many get maskID, a random token or
// their own token. A random token is uniform over the ids in [0, vocab)
// that are neither special nor maskID: draws that hit one are redrawn
// (up to 64 times, then the next allowed id after the last draw is
// taken, which only matters for vocabularies that are mostly special).
// It may equal the original token, as in BERT.
//
// dst receives ids with the corruptions applied (dst may be ids itself);
// masked is true at the n chosen positions, whatever their new value, as
// all of them are predicted. BERT panics when len(dst) or len(masked)
// differs from len(ids), on an n ValidateText rejects, or when [0, vocab)
// holds no allowed random token.
func BERT(rng *rand.Rand, ids []int, special func(id int) bool, n int, maskID, vocab int, dst []int, masked []bool) {
	cand := prepareText("BERT", ids, special, n, dst, masked)
	chosen := pick(rng, cand, n)
	nMask, nRand, _ := BERTSplit(n)
	// A partial Fisher-Yates shuffle makes the roles a uniform draw
	// among the chosen positions.
	for i := range nMask + nRand {
		j := i + rng.IntN(n-i)
		chosen[i], chosen[j] = chosen[j], chosen[i]
	}
	for i, p := range chosen {
		masked[p] = true
		switch {
		case i < nMask:
			dst[p] = maskID
		case i < nMask+nRand:
			dst[p] = randomToken(rng, special, maskID, vocab)
		}
	}
}

// maxRedraws bounds the rejection sampling of randomToken.
const maxRedraws = 64

// randomToken draws an id in [0, vocab) that is neither special nor maskID.
func randomToken(rng *rand.Rand, special func(int) bool, maskID, vocab int) int {
	ok := func(id int) bool { return id != maskID && !special(id) }
	if vocab < 1 {
		panic(fmt.Sprintf("masking: BERT: vocab must be >= 1, got %d", vocab))
	}
	id := 0
	for range maxRedraws {
		if id = rng.IntN(vocab); ok(id) {
			return id
		}
	}
	for k := 1; k < vocab; k++ {
		if c := (id + k) % vocab; ok(c) {
			return c
		}
	}
	panic(fmt.Sprintf("masking: BERT: every id in [0, %d) is special or the mask id; no random token can be drawn", vocab))
}

// Spans masks exactly n non-special positions of ids with spans of
// spanLen tokens, the variant of data2vec's released text config
// (mask_prob 0.35, mask_multiple_length 4; mirrors fairseq
// MaskTokensDataset with wav2vec 2.0-style spans). It draws
// floor(n/spanLen + u) span starts, u uniform in [0,1), uniformly among
// the non-special positions without replacement, and masks each start and
// the tokens after it up to spanLen in all, stopping early at a special
// token or the end of the sequence; spans may overlap. The count is then
// forced to exactly n so shapes stay static: missing positions are added
// as random single tokens among the unmasked non-special ones, and extra
// ones are removed one at a time from the end of a randomly chosen run,
// which keeps the spans contiguous. Every masked token becomes maskID
// (the released config uses no random or unchanged tokens).
//
// dst and masked are as for BERT. Spans panics when the lengths differ,
// on an n ValidateText rejects, or when spanLen < 1.
func Spans(rng *rand.Rand, ids []int, special func(id int) bool, n, spanLen int, maskID int, dst []int, masked []bool) {
	if spanLen < 1 {
		panic(fmt.Sprintf("masking: Spans: span length must be >= 1, got %d", spanLen))
	}
	cand := prepareText("Spans", ids, special, n, dst, masked)
	starts := min(int(float64(n)/float64(spanLen)+rng.Float64()), len(cand))
	count := 0
	for _, s := range pick(rng, cand, starts) {
		for p := s; p < s+spanLen && p < len(ids) && !special(ids[p]); p++ {
			if !masked[p] {
				masked[p] = true
				count++
			}
		}
	}
	if count < n {
		free := cand[:0] // pick is done with cand's storage
		for p, id := range ids {
			if !masked[p] && !special(id) {
				free = append(free, p)
			}
		}
		for _, p := range pick(rng, free, n-count) {
			masked[p] = true
		}
		count = n
	}
	shortenRuns(rng, masked, count-n, cand[:0])
	for p, m := range masked {
		if m {
			dst[p] = maskID
		}
	}
}

// prepareText checks the arguments shared by BERT and Spans, copies ids to
// dst, clears masked and returns the non-special positions, ascending.
func prepareText(name string, ids []int, special func(int) bool, n int, dst []int, masked []bool) []int {
	if len(dst) != len(ids) || len(masked) != len(ids) || special == nil {
		panic(fmt.Sprintf("masking: %s: len(ids) %d, len(dst) %d, len(masked) %d, special set %t; want equal lengths and a special func",
			name, len(ids), len(dst), len(masked), special != nil))
	}
	cand := make([]int, 0, len(ids))
	for p, id := range ids {
		if !special(id) {
			cand = append(cand, p)
		}
	}
	if err := ValidateText(len(cand), n); err != nil {
		panic(err)
	}
	copy(dst, ids)
	clear(masked)
	return cand
}

// shortenRuns unmasks extra masked cells one at a time, each the last cell
// of a run of masked cells chosen uniformly among the runs, so that what
// stays masked stays in runs. scratch (any length) holds the run ends.
func shortenRuns(rng *rand.Rand, masked []bool, extra int, scratch []int) {
	for ; extra > 0; extra-- {
		ends := scratch[:0]
		for p, m := range masked {
			if m && (p+1 == len(masked) || !masked[p+1]) {
				ends = append(ends, p)
			}
		}
		masked[ends[rng.IntN(len(ends))]] = false
		scratch = ends
	}
}

// pick keeps k of cand, every k-subset equally likely, in their original
// order (Knuth's Algorithm S, as Random uses). It reuses cand's storage:
// writes trail the reads, so none is clobbered before it is read.
func pick(rng *rand.Rand, cand []int, k int) []int {
	out := cand[:0]
	need := k
	for i, c := range cand {
		if rng.IntN(len(cand)-i) < need {
			out = append(out, c)
			need--
		}
	}
	return out
}
