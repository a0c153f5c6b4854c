package masking

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Audio masking follows wav2vec 2.0's compute_mask_indices as data2vec's
// speech recipe configures it (mask_prob 0.65, mask_length 10,
// require_same_masks): span starts are drawn among the t-spanLen+1
// positions whose span fits, int(prob*t/spanLen + u) of them (u uniform in
// [0,1)), without replacement; each masks itself and the spanLen-1 frames
// after it, and spans may overlap. fairseq then trims every row of a batch
// to the batch's smallest count so the shapes agree; here every sample of
// every step is forced to the same count n = SpanCount(prob, t, spanLen),
// so the graphs stay static across steps.

// SpanCount is the masked count per sample for span masking over t frames:
// the expected size of the union of the spans, t*(1-(1-prob/spanLen)^spanLen)
// (each frame is covered unless none of the spanLen starts that would
// cover it is drawn, each drawn with probability prob/spanLen), rounded
// half up and clamped to [1, t-1]. For the speech recipe (0.65, 10) that is
// 48.9% of the frames, the paper's "about 49%". It returns 0 (rejected by
// ValidateCount) when t < 2 or spanLen < 1.
func SpanCount(prob float64, t, spanLen int) int {
	if t < 2 || spanLen < 1 {
		return 0
	}
	p := min(prob/float64(spanLen), 1)
	frac := 1 - math.Pow(1-p, float64(spanLen))
	return Count(frac, t)
}

// ValidateSpans reports whether TimeSpans can mask n of t frames with spans
// of spanLen: 1 <= spanLen <= t and 1 <= n < t.
func ValidateSpans(t, n, spanLen int) error {
	if spanLen < 1 || spanLen > t {
		return fmt.Errorf("masking: span_len: must be in [1, %d] for %d frames, got %d", t, t, spanLen)
	}
	return ValidateCount(t, n)
}

// TimeSpans fills dst (len t) with exactly n masked frames drawn as
// wav2vec 2.0 spans (see the package notes above): int(prob*t/spanLen + u)
// starts, at least one, each masking spanLen frames. The count is then
// forced to n: missing frames are added as further spans at random starts
// (the last one cut short), and extra frames are removed one at a time
// from the end of a randomly chosen run, so what remains stays in runs.
// It panics on arguments ValidateSpans rejects or when len(dst) != t.
func TimeSpans(rng *rand.Rand, t, n, spanLen int, prob float64, dst []bool) {
	if len(dst) != t {
		panic(fmt.Sprintf("masking: TimeSpans: len(dst) %d, want t = %d", len(dst), t))
	}
	if err := ValidateSpans(t, n, spanLen); err != nil {
		panic(err)
	}
	clear(dst)
	slots := t - spanLen + 1 // starts whose span fits
	starts := min(max(int(prob*float64(t)/float64(spanLen)+rng.Float64()), 1), slots)
	count := 0
	need := starts
	for s := 0; s < slots; s++ { // selection sampling: every starts-subset equally likely
		if rng.IntN(slots-s) < need {
			need--
			count += markSpan(dst, s, spanLen)
		}
	}
	for count < n { // too few: more spans at uniform starts, the last cut to fit n
		s := rng.IntN(slots)
		for p := s; p < s+spanLen && count < n; p++ {
			if !dst[p] {
				dst[p] = true
				count++
			}
		}
	}
	shortenRuns(rng, dst, count-n, nil) // too many: shorten random runs from their ends
}

func markSpan(dst []bool, s, spanLen int) int {
	c := 0
	for p := s; p < s+spanLen; p++ {
		if !dst[p] {
			dst[p] = true
			c++
		}
	}
	return c
}
