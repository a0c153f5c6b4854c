package masking

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// Test vocabulary: 0 <s>, 1 <pad>, 2 </s>, 3 <mask> are special; ordinary
// tokens in sequences are >= textVocab, so a random replacement (drawn in
// [0, textVocab)) can never equal the token it replaces.
const (
	bosID, padID, eosID, maskTok = 0, 1, 2, 3
	textVocab                    = 50
)

func isSpecial(id int) bool { return id <= maskTok }

// packedSeq returns a sequence of length t like data.Pack makes: tokens
// >= textVocab with </s> <s> document boundaries at random places and
// pads pads at the end.
func packedSeq(rng *rand.Rand, t, pads int) []int {
	ids := make([]int, t)
	for i := range ids {
		ids[i] = textVocab + rng.IntN(1000)
	}
	ids[0] = bosID
	for range 3 {
		if p := 1 + rng.IntN(t-pads-2); p+1 < t-pads {
			ids[p], ids[p+1] = eosID, bosID
		}
	}
	ids[t-pads-1] = eosID
	for i := t - pads; i < t; i++ {
		ids[i] = padID
	}
	return ids
}

// checkText verifies the invariants both maskers share and returns the
// number of masked positions.
func checkText(t *testing.T, ids, dst []int, masked []bool) int {
	t.Helper()
	c := 0
	for p, id := range ids {
		switch {
		case masked[p]:
			c++
			if isSpecial(id) {
				t.Fatalf("special id %d at %d masked: %v", id, p, ids)
			}
		case dst[p] != id:
			t.Fatalf("unmasked position %d changed from %d to %d", p, id, dst[p])
		}
	}
	return c
}

func TestTextCount(t *testing.T) {
	tests := []struct {
		ratio float64
		t     int
		want  int
	}{
		{0.15, 510, 77}, // 76.5 rounds half up
		{0.35, 126, 44}, // 44.1
		{0.48, 100, 48},
		{0, 10, 1}, // clamped: something must be predicted
		{1, 10, 10},
		{1.5, 10, 10},
		{0.5, 0, 0}, // rejected by ValidateText
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%g of %d", tt.ratio, tt.t), func(t *testing.T) {
			if got := TextCount(tt.ratio, tt.t); got != tt.want {
				t.Errorf("TextCount = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestBERTSplit(t *testing.T) {
	for _, tt := range []struct{ n, mask, random, keep int }{
		{1, 1, 0, 0}, {3, 2, 0, 1}, {4, 3, 0, 1}, {5, 4, 1, 0}, {10, 8, 1, 1}, {15, 12, 2, 1}, {77, 62, 8, 7}, {100, 80, 10, 10},
	} {
		m, r, k := BERTSplit(tt.n)
		if m != tt.mask || r != tt.random || k != tt.keep {
			t.Errorf("BERTSplit(%d) = %d/%d/%d, want %d/%d/%d", tt.n, m, r, k, tt.mask, tt.random, tt.keep)
		}
	}
	for n := 1; n <= 600; n++ {
		if m, r, k := BERTSplit(n); m < 0 || r < 0 || k < 0 || m+r+k != n {
			t.Fatalf("BERTSplit(%d) = %d/%d/%d", n, m, r, k)
		}
	}
}

func TestBERTExactCountsAndSplit(t *testing.T) {
	for _, tc := range []struct{ t, pads int }{{16, 0}, {64, 10}, {128, 0}, {512, 100}} {
		t.Run(fmt.Sprintf("T%d pad%d", tc.t, tc.pads), func(t *testing.T) {
			dst, masked := make([]int, tc.t), make([]bool, tc.t)
			for seed := range int64(200) {
				ids := packedSeq(rand.New(rand.NewPCG(uint64(seed), 9)), tc.t, tc.pads)
				n := TextCount(0.15, NonSpecial(ids, isSpecial))
				BERT(NewRNG(seed, 7, 1), ids, isSpecial, n, maskTok, textVocab, dst, masked)
				if got := checkText(t, ids, dst, masked); got != n {
					t.Fatalf("seed %d: %d masked, want %d", seed, got, n)
				}
				var nMask, nRand, nKeep int
				for p, m := range masked {
					switch {
					case !m:
					case dst[p] == maskTok:
						nMask++
					case dst[p] == ids[p]:
						nKeep++
					case dst[p] < textVocab && !isSpecial(dst[p]):
						nRand++
					default:
						t.Fatalf("seed %d: position %d became %d", seed, p, dst[p])
					}
				}
				wm, wr, wk := BERTSplit(n)
				if nMask != wm || nRand != wr || nKeep != wk {
					t.Fatalf("seed %d, n %d: split %d/%d/%d, want %d/%d/%d", seed, n, nMask, nRand, nKeep, wm, wr, wk)
				}
			}
		})
	}
}

func TestBERTIsUniform(t *testing.T) {
	// 8 maskable tokens between <s> and </s>: each is chosen with
	// probability n/8, and random tokens cover the allowed ids.
	ids := []int{bosID, 60, 61, 62, 63, 64, 65, 66, 67, eosID}
	const n, trials = 5, 20000
	hits := make([]int, len(ids))
	seen := map[int]bool{}
	dst, masked := make([]int, len(ids)), make([]bool, len(ids))
	for s := range trials {
		BERT(NewRNG(2, int64(s), 0), ids, isSpecial, n, maskTok, textVocab, dst, masked)
		for p, m := range masked {
			if m {
				hits[p]++
				if dst[p] != maskTok && dst[p] != ids[p] {
					seen[dst[p]] = true
				}
			}
		}
	}
	for p := 1; p <= 8; p++ {
		if f := float64(hits[p]) / trials; f < 0.6 || f > 0.65 {
			t.Errorf("position %d chosen with frequency %.3f, want about 0.625", p, f)
		}
	}
	if len(seen) != textVocab-4 {
		t.Errorf("random tokens took %d distinct values, want all %d non-special ids", len(seen), textVocab-4)
	}
}

func TestRandomTokenAvoidsSpecials(t *testing.T) {
	// All but id 7 of [0, 200) special: the redraw fallback must find it.
	only7 := func(id int) bool { return id != 7 }
	for s := range 100 {
		if id := randomToken(NewRNG(1, int64(s), 0), only7, 3, 200); id != 7 {
			t.Fatalf("randomToken = %d, want 7", id)
		}
	}
}

func runs(masked []bool) (count, total int) {
	for p, m := range masked {
		if m {
			total++
			if p == 0 || !masked[p-1] {
				count++
			}
		}
	}
	return count, total
}

func TestSpansExactCountsAndRuns(t *testing.T) {
	for _, tc := range []struct {
		t, pads, spanLen int
		ratio            float64
	}{{128, 0, 4, 0.35}, {128, 20, 4, 0.35}, {512, 0, 4, 0.35}, {64, 5, 1, 0.48}, {16, 0, 4, 0.9}, {16, 0, 10, 0.1}} {
		t.Run(fmt.Sprintf("T%d pad%d len%d ratio%g", tc.t, tc.pads, tc.spanLen, tc.ratio), func(t *testing.T) {
			dst, masked := make([]int, tc.t), make([]bool, tc.t)
			for seed := range int64(200) {
				ids := packedSeq(rand.New(rand.NewPCG(uint64(seed), 3)), tc.t, tc.pads)
				n := TextCount(tc.ratio, NonSpecial(ids, isSpecial))
				Spans(NewRNG(seed, 11, 2), ids, isSpecial, n, tc.spanLen, maskTok, dst, masked)
				if got := checkText(t, ids, dst, masked); got != n {
					t.Fatalf("seed %d: %d masked, want %d", seed, got, n)
				}
				for p, m := range masked {
					if m && dst[p] != maskTok {
						t.Fatalf("seed %d: masked position %d holds %d, want the mask id", seed, p, dst[p])
					}
				}
			}
		})
	}
	t.Run("mean run length", func(t *testing.T) {
		// <s> 126 tokens </s>; spans of 4 at 0.35 should mostly stay whole.
		ids := make([]int, 128)
		for i := range ids {
			ids[i] = textVocab + i
		}
		ids[0], ids[127] = bosID, eosID
		n := TextCount(0.35, 126)
		dst, masked := make([]int, 128), make([]bool, 128)
		var nRuns, nTok int
		for seed := range int64(500) {
			Spans(NewRNG(seed, 0, 0), ids, isSpecial, n, 4, maskTok, dst, masked)
			c, tot := runs(masked)
			nRuns, nTok = nRuns+c, nTok+tot
		}
		if mean := float64(nTok) / float64(nRuns); mean <= 2 {
			t.Errorf("mean run length %.2f, want > 2", mean)
		} else {
			t.Logf("mean run length %.2f over %d runs", mean, nRuns)
		}
	})
}

func TestTextReproducible(t *testing.T) {
	ids := packedSeq(rand.New(rand.NewPCG(5, 5)), 128, 7)
	n := TextCount(0.35, NonSpecial(ids, isSpecial))
	type maskFn func(seed, step int64, sample int) ([]int, []bool)
	fns := map[string]maskFn{
		"BERT": func(seed, step int64, sample int) ([]int, []bool) {
			dst, m := make([]int, len(ids)), make([]bool, len(ids))
			BERT(NewRNG(seed, step, sample), ids, isSpecial, n, maskTok, textVocab, dst, m)
			return dst, m
		},
		"Spans": func(seed, step int64, sample int) ([]int, []bool) {
			dst, m := make([]int, len(ids)), make([]bool, len(ids))
			Spans(NewRNG(seed, step, sample), ids, isSpecial, n, 4, maskTok, dst, m)
			return dst, m
		},
	}
	for name, f := range fns {
		t.Run(name, func(t *testing.T) {
			d1, m1 := f(1, 100, 5)
			d2, m2 := f(1, 100, 5)
			if !slices.Equal(d1, d2) || !slices.Equal(m1, m2) {
				t.Fatal("same (seed, step, sample) gave different masks")
			}
			d3, m3 := f(1, 100, 6)
			if slices.Equal(d1, d3) && slices.Equal(m1, m3) {
				t.Fatal("another sample gave the same mask")
			}
		})
	}
}

func TestTextInPlace(t *testing.T) {
	ids := packedSeq(rand.New(rand.NewPCG(8, 8)), 64, 4)
	orig := slices.Clone(ids)
	n := TextCount(0.15, NonSpecial(ids, isSpecial))
	want, m := make([]int, len(ids)), make([]bool, len(ids))
	BERT(NewRNG(3, 3, 3), ids, isSpecial, n, maskTok, textVocab, want, m)
	BERT(NewRNG(3, 3, 3), ids, isSpecial, n, maskTok, textVocab, ids, m)
	if !slices.Equal(ids, want) {
		t.Fatalf("in-place BERT differs:\n%v\n%v\nfrom %v", ids, want, orig)
	}
}

func TestValidateText(t *testing.T) {
	tests := []struct {
		nonSpecial, n int
		want          string
	}{
		{10, 1, ""},
		{10, 10, ""},
		{10, 0, "must be in [1, 10] for 10 non-special tokens, got 0"},
		{10, 11, "got 11"},
		{0, 1, "no maskable token"},
	}
	for _, tt := range tests {
		err := ValidateText(tt.nonSpecial, tt.n)
		if (err == nil) != (tt.want == "") || (err != nil && !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("ValidateText(%d, %d) = %v, want %q", tt.nonSpecial, tt.n, err, tt.want)
		}
	}
}

func TestTextPanics(t *testing.T) {
	ids := []int{bosID, 60, 61, 62, eosID, padID}
	dst, m := make([]int, len(ids)), make([]bool, len(ids))
	tests := []struct {
		name string
		f    func()
		want string
	}{
		{"BERT n too big", func() { BERT(NewRNG(0, 0, 0), ids, isSpecial, 4, maskTok, textVocab, dst, m) }, "[1, 3]"},
		{"BERT n zero", func() { BERT(NewRNG(0, 0, 0), ids, isSpecial, 0, maskTok, textVocab, dst, m) }, "got 0"},
		{"BERT short dst", func() { BERT(NewRNG(0, 0, 0), ids, isSpecial, 1, maskTok, textVocab, dst[:2], m) }, "len(dst) 2"},
		{"BERT all special", func() {
			BERT(NewRNG(0, 0, 0), []int{0, 2}, isSpecial, 1, maskTok, textVocab, dst[:2], m[:2])
		}, "no maskable token"},
		{"BERT no random id", func() {
			five := []int{bosID, 60, 61, 62, 63, 64, eosID} // n = 5 draws one random token
			BERT(NewRNG(0, 0, 0), five, isSpecial, 5, maskTok, 4, make([]int, 7), make([]bool, 7))
		}, "no random token"},
		{"Spans span zero", func() { Spans(NewRNG(0, 0, 0), ids, isSpecial, 1, 0, maskTok, dst, m) }, "span length"},
		{"Spans n too big", func() { Spans(NewRNG(0, 0, 0), ids, isSpecial, 4, 4, maskTok, dst, m) }, "[1, 3]"},
		{"Spans short masked", func() { Spans(NewRNG(0, 0, 0), ids, isSpecial, 1, 4, maskTok, dst, m[:1]) }, "len(masked) 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				r := recover()
				if r == nil || !strings.Contains(fmt.Sprint(r), tt.want) {
					t.Fatalf("panic %v, want one containing %q", r, tt.want)
				}
			}()
			tt.f()
		})
	}
}
