package masking

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

func countTrue(m []bool) int {
	n := 0
	for _, v := range m {
		if v {
			n++
		}
	}
	return n
}

func TestCount(t *testing.T) {
	tests := []struct {
		ratio float64
		t     int
		want  int
	}{
		{0.6, 196, 118}, // 117.6 rounds up
		{0.5, 49, 25},   // 24.5 rounds half up
		{0.4, 196, 78},  // 78.4 rounds down
		{0, 196, 1},     // clamped: something must be predicted
		{1, 196, 195},   // clamped: something must stay visible
		{0.9, 2, 1},
		{0.5, 1, 0}, // no valid count; ValidateCount rejects it
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%g of %d", tt.ratio, tt.t), func(t *testing.T) {
			if got := Count(tt.ratio, tt.t); got != tt.want {
				t.Errorf("Count = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestBlockExactCount(t *testing.T) {
	grids := []struct{ gh, gw, minPer, maxPer int }{
		{7, 7, 2, 0},
		{7, 7, 4, 10},
		{14, 14, 16, 0}, // BEiT defaults
		{14, 14, 4, 0},
		{4, 8, 1, 3},
	}
	for _, g := range grids {
		for r := 1; r <= 9; r++ {
			ratio := float64(r) / 10
			n := Count(ratio, g.gh*g.gw)
			t.Run(fmt.Sprintf("%dx%d min%d max%d ratio%.1f", g.gh, g.gw, g.minPer, g.maxPer, ratio), func(t *testing.T) {
				dst := make([]bool, g.gh*g.gw)
				for seed := range int64(50) {
					Block(NewRNG(seed, 3, 0), g.gh, g.gw, n, g.minPer, g.maxPer, 0.3, 1/0.3, dst)
					if got := countTrue(dst); got != n {
						t.Fatalf("seed %d: %d masked, want %d", seed, got, n)
					}
				}
			})
		}
	}
}

func TestRandomExactCount(t *testing.T) {
	for _, tc := range []struct{ t, n int }{{49, 1}, {49, 24}, {196, 118}, {10, 0}, {10, 10}} {
		dst := make([]bool, tc.t)
		for seed := range int64(50) {
			Random(NewRNG(seed, 0, 0), tc.t, tc.n, dst)
			if got := countTrue(dst); got != tc.n {
				t.Fatalf("t=%d n=%d seed %d: %d masked", tc.t, tc.n, seed, got)
			}
		}
	}
}

func TestRandomIsUniform(t *testing.T) {
	// Each of t cells should be masked with probability n/t.
	const tt, n, trials = 10, 3, 20000
	hits := make([]int, tt)
	dst := make([]bool, tt)
	for s := range trials {
		Random(NewRNG(1, int64(s), 0), tt, n, dst)
		for i, m := range dst {
			if m {
				hits[i]++
			}
		}
	}
	for i, h := range hits {
		if p := float64(h) / trials; p < 0.28 || p > 0.32 {
			t.Errorf("cell %d masked with frequency %.3f, want about 0.3", i, p)
		}
	}
}

func TestReproducible(t *testing.T) {
	const gh, gw = 14, 14
	n := Count(0.6, gh*gw)
	mask := func(seed, step int64, sample int) []bool {
		dst := make([]bool, gh*gw)
		Block(NewRNG(seed, step, sample), gh, gw, n, 16, 0, 0.3, 1/0.3, dst)
		return dst
	}
	ref := mask(1, 100, 5)
	_ = mask(1, 99, 5) // history must not matter
	if !slices.Equal(mask(1, 100, 5), ref) {
		t.Fatal("same (seed, step, sample) gave a different mask")
	}
	same := 0
	for sample := range 20 {
		if slices.Equal(mask(1, 100, sample+6), ref) {
			same++
		}
	}
	if slices.Equal(mask(2, 100, 5), ref) || slices.Equal(mask(1, 101, 5), ref) {
		t.Error("another seed or step gave the same mask")
	}
	if same > 1 {
		t.Errorf("%d of 20 other samples repeated the mask", same)
	}
}

// meanComponent is the mean size of the 4-connected components of mask.
func meanComponent(mask []bool, gh, gw int) float64 {
	seen := make([]bool, len(mask))
	comps, cells := 0, 0
	var stack []int
	for s, m := range mask {
		if !m || seen[s] {
			continue
		}
		comps++
		seen[s] = true
		stack = append(stack[:0], s)
		for len(stack) > 0 {
			i := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			cells++
			y, x := i/gw, i%gw
			for _, d := range [][2]int{{-1, 0}, {1, 0}, {0, -1}, {0, 1}} {
				ny, nx := y+d[0], x+d[1]
				if j := ny*gw + nx; ny >= 0 && ny < gh && nx >= 0 && nx < gw && mask[j] && !seen[j] {
					seen[j] = true
					stack = append(stack, j)
				}
			}
		}
	}
	return float64(cells) / float64(comps)
}

func TestBlockIsBlockwise(t *testing.T) {
	const gh, gw, samples = 14, 14, 200
	n := Count(0.4, gh*gw)
	dst := make([]bool, gh*gw)
	var block, iid float64
	for s := range samples {
		Block(NewRNG(7, 0, s), gh, gw, n, 4, 0, 0.3, 1/0.3, dst)
		block += meanComponent(dst, gh, gw) / samples
		Random(NewRNG(7, 0, s), gh*gw, n, dst)
		iid += meanComponent(dst, gh, gw) / samples
	}
	t.Logf("mean component size: block %.1f, iid %.1f", block, iid)
	if block < 3 || block < 2*iid {
		t.Errorf("block masks have mean component size %.1f (iid %.1f); want >= 3 and >= 2x iid", block, iid)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name              string
		gh, gw, n, mn, mx int
		minAspect, maxAsp float64
		want              string // "" means valid
	}{
		{"beit defaults", 14, 14, 118, 16, 0, 0.3, 1 / 0.3, ""},
		{"n zero", 14, 14, 0, 16, 0, 0.3, 3, "n: "},
		{"n all", 7, 7, 49, 4, 0, 0.3, 3, "n: "},
		{"min per block", 7, 7, 20, 0, 0, 0.3, 3, "min_per_block"},
		{"max below min", 7, 7, 20, 8, 4, 0.3, 3, "max_per_block"},
		{"aspect zero", 7, 7, 20, 4, 0, 0, 3, "min_aspect"},
		{"aspect reversed", 7, 7, 20, 4, 0, 3, 0.3, "max_aspect"},
		{"empty grid", 0, 7, 20, 4, 0, 0.3, 3, "grid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidateBlock(tt.gh, tt.gw, tt.n, tt.mn, tt.mx, tt.minAspect, tt.maxAsp)
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("want valid, got %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("error %v, want one naming %q", err, tt.want)
			}
		})
	}
}

func TestBlockPanicsOnBadParams(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("want panic for n = t")
		}
	}()
	Block(NewRNG(0, 0, 0), 2, 2, 4, 1, 0, 0.3, 3, make([]bool, 4))
}

func TestPositions(t *testing.T) {
	masked, visible := Positions([]bool{true, false, false, true, true}, nil, nil)
	if !slices.Equal(masked, []int{0, 3, 4}) || !slices.Equal(visible, []int{1, 2}) {
		t.Errorf("Positions = %v, %v", masked, visible)
	}
}

// TestPinned fixes one mask and one RNG draw: if either changes (our code
// or the standard library's PCG/IntN), resumed runs would see new masks.
func TestPinned(t *testing.T) {
	if got := NewRNG(1, 2, 3).Uint64(); got != 3513709710582456059 {
		t.Errorf("NewRNG(1, 2, 3).Uint64() = %d, want 3513709710582456059", got)
	}
	want := "" +
		"....xx" +
		"....xx" +
		".xx.xx" +
		"....xx" +
		"....xx" +
		"....xx"
	dst := make([]bool, 36)
	Block(NewRNG(1, 2, 3), 6, 6, 14, 4, 0, 0.3, 1/0.3, dst)
	got := make([]byte, len(dst))
	for i, m := range dst {
		got[i] = '.'
		if m {
			got[i] = 'x'
		}
	}
	if string(got) != want {
		t.Errorf("mask\n%s\nwant\n%s", got, want)
	}
}
