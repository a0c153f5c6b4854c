package masking

import (
	"fmt"
	"math/rand/v2"
)

// data2vec 2.0 (Baevski et al., 2022, arXiv 2212.07525) masks each sample
// M times (its clones), and the student encodes only the visible tokens
// of each clone, so every clone must keep the same number of positions:
// KeepCount(maskProb, t) = int(t*(1-maskProb)), fairseq's
// int(T*(1-mask_prob)) (modalities/base.py random_masking and
// compute_block_mask_2d with require_same_masks).

// KeepCount is the number of visible positions of every data2vec 2.0
// clone of t positions with mask probability maskProb: int(t*(1-maskProb)),
// truncated as fairseq truncates it (t 64, 0.8 -> 12). It is the one place
// that count is computed; ValidateKeep rejects the results that leave no
// visible or no masked position.
func KeepCount(maskProb float64, t int) int {
	return int(float64(t) * (1 - maskProb))
}

// ValidateKeep reports whether keep of t positions can stay visible with
// at least one masked: 1 <= keep < t.
func ValidateKeep(t, keep int) error {
	if t < 2 {
		return fmt.Errorf("masking: t: need at least 2 positions to mask, got %d", t)
	}
	if keep < 1 || keep >= t {
		return fmt.Errorf("masking: mask_prob: keeps %d of %d positions, want 1 to %d visible", keep, t, t-1)
	}
	return nil
}

// NewCloneRNG is NewRNG for one clone of one sample: its stream is a pure
// function of (seed, step, sample, clone), so clone 5 of sample 3 at step
// 1200 draws the same mask whatever ran before it.
func NewCloneRNG(seed, step int64, sample, clone int) *rand.Rand {
	h := splitmix64(uint64(seed))
	h = splitmix64(h ^ uint64(step))
	h = splitmix64(h ^ uint64(sample))
	h = splitmix64(h ^ (uint64(clone) + 0x636c6f6e65)) // "clone": apart from NewRNG's streams
	return rand.New(rand.NewPCG(h, splitmix64(h)))
}

// ValidateInverseBlock checks InverseBlock's parameters once, at setup.
func ValidateInverseBlock(gh, gw int, maskProb float64, length int, adjust float64) error {
	if gh < 1 || gw < 1 {
		return fmt.Errorf("masking: grid: must be at least 1x1, got %dx%d", gh, gw)
	}
	if !(maskProb > 0 && maskProb < 1) {
		return fmt.Errorf("masking: mask_prob: must be in (0,1), got %g", maskProb)
	}
	if length < 1 || length > min(gh, gw) {
		return fmt.Errorf("masking: block_width: must be in [1, %d] for a %dx%d grid, got %d", min(gh, gw), gh, gw, length)
	}
	if !(adjust >= 0 && adjust < 1) {
		return fmt.Errorf("masking: adjust: must be in [0,1), got %g", adjust)
	}
	return ValidateKeep(gh*gw, KeepCount(maskProb, gh*gw))
}

// InverseBlock fills dst (len gh*gw, row-major over the patch grid; true =
// masked) with data2vec 2.0's inverse block mask (fairseq
// compute_block_mask_2d with inverse_mask and require_same_masks, no
// mask_dropout): with keep = 1-maskProb it draws int(T*(keep+adjust)/L²)
// centres uniformly over the T cells (repeats allowed), marks the L x L
// block around each centre (offsets -L/2 .. L-1-L/2, clamped at the border)
// as KEPT, then un-keeps random kept cells or keeps random other cells
// until exactly KeepCount(maskProb, T) are kept, and inverts. So the
// visible tokens come in blocks and the masked ones are everything else.
// It panics on parameters ValidateInverseBlock rejects or a wrong len(dst).
func InverseBlock(rng *rand.Rand, gh, gw int, maskProb float64, length int, adjust float64, dst []bool) {
	if err := ValidateInverseBlock(gh, gw, maskProb, length, adjust); err != nil {
		panic(err)
	}
	T := gh * gw
	if len(dst) != T {
		panic(fmt.Sprintf("masking: InverseBlock: len(dst) = %d, want gh*gw = %d", len(dst), T))
	}
	keep := 1 - maskProb
	centres := int(float64(T) * (keep + adjust) / float64(length*length))
	kept := dst // true = kept until the final inversion
	clear(kept)
	off := length / 2
	for range centres {
		c := rng.IntN(T)
		cy, cx := c/gw, c%gw
		for i := 0; i < length; i++ {
			y := min(max(cy+i-off, 0), gh-1)
			for j := 0; j < length; j++ {
				x := min(max(cx+j-off, 0), gw-1)
				kept[y*gw+x] = true
			}
		}
	}
	n := 0
	for _, k := range kept {
		if k {
			n++
		}
	}
	want := KeepCount(maskProb, T)
	switch {
	case n > want:
		flipRandom(rng, kept, true, n-want)
	case n < want:
		flipRandom(rng, kept, false, want-n)
	}
	for i := range dst {
		dst[i] = !kept[i]
	}
}

// flipRandom flips k cells of m that equal from, chosen uniformly without
// replacement (fairseq's multinomial over a 0/1 row).
func flipRandom(rng *rand.Rand, m []bool, from bool, k int) {
	cand := make([]int, 0, len(m))
	for i, v := range m {
		if v == from {
			cand = append(cand, i)
		}
	}
	for i := 0; i < k; i++ { // partial Fisher-Yates
		j := i + rng.IntN(len(cand)-i)
		cand[i], cand[j] = cand[j], cand[i]
		m[cand[i]] = !from
	}
}

// CloneMasks fills dst (B*M rows of t; row r is sample r/M, clone r%M, true
// = masked) with one mask per clone, each drawn by draw from the clone's own
// generator NewCloneRNG(seed, step, first+r/M, r%M), where first is the
// global index of the batch's first sample (data-parallel ranks): a pure
// function of (seed, step, sample, clone).
func CloneMasks(seed, step int64, first, batch, clones, t int, dst []bool, draw func(r *rand.Rand, row []bool)) {
	if len(dst) != batch*clones*t {
		panic(fmt.Sprintf("masking: CloneMasks: len(dst) = %d, want %d x %d x %d", len(dst), batch, clones, t))
	}
	for r := 0; r < batch*clones; r++ {
		draw(NewCloneRNG(seed, step, first+r/clones, r%clones), dst[r*t:(r+1)*t])
	}
}
