package masking

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

func TestKeepCount(t *testing.T) {
	for _, c := range []struct {
		p    float64
		t    int
		want int
	}{
		{0.8, 64, 12},  // 12.8 truncated, as fairseq's int(); the d2v2_patches_2d fixture keeps 12
		{0.8, 196, 39}, // ViT-B/16 on 224 px: 39.2
		{0.5, 16, 8},   // the d2v2_tokens_1d fixture
		{0.48, 512, 266},
		{0.5, 49, 24},
	} {
		if got := KeepCount(c.p, c.t); got != c.want {
			t.Errorf("KeepCount(%g, %d) = %d, want %d", c.p, c.t, got, c.want)
		}
	}
	for _, c := range []struct{ t, keep int }{{1, 0}, {10, 0}, {10, 10}, {10, -1}} {
		if ValidateKeep(c.t, c.keep) == nil {
			t.Errorf("ValidateKeep(%d, %d) = nil, want an error", c.t, c.keep)
		}
	}
	if err := ValidateKeep(10, 9); err != nil {
		t.Errorf("ValidateKeep(10, 9) = %v", err)
	}
}

// keptNeighbours is the mean number of kept 4-neighbours of a kept cell.
func keptNeighbours(mask []bool, gh, gw int) float64 {
	var n, k int
	for i, m := range mask {
		if m {
			continue
		}
		k++
		y, x := i/gw, i%gw
		for _, d := range [][2]int{{-1, 0}, {1, 0}, {0, -1}, {0, 1}} {
			yy, xx := y+d[0], x+d[1]
			if yy >= 0 && yy < gh && xx >= 0 && xx < gw && !mask[yy*gw+xx] {
				n++
			}
		}
	}
	return float64(n) / float64(k)
}

func TestInverseBlockExactKeptCountAndBlocks(t *testing.T) {
	const gh, gw, p, L, adj = 14, 14, 0.8, 3, 0.07
	keep := KeepCount(p, gh*gw) // 39
	dst := make([]bool, gh*gw)
	var blocky, scattered float64
	const samples = 500
	for i := 0; i < samples; i++ {
		InverseBlock(NewCloneRNG(5, int64(i), i%7, i%3), gh, gw, p, L, adj, dst)
		if c := gh*gw - countTrue(dst); c != keep {
			t.Fatalf("sample %d: %d kept, want exactly %d", i, c, keep)
		}
		blocky += keptNeighbours(dst, gh, gw)
		Random(NewRNG(5, int64(i), 0), gh*gw, gh*gw-keep, dst)
		scattered += keptNeighbours(dst, gh, gw)
	}
	blocky /= samples
	scattered /= samples
	// A kept cell inside a 3x3 block has 24/9 = 2.7 kept neighbours on
	// average; scattered 20% keeps have under 0.8.
	if blocky < 1.8 || scattered > 0.9 {
		t.Errorf("kept cells have %.2f kept neighbours (random masking: %.2f); want blocks (>= 1.8)", blocky, scattered)
	}
}

// TestInverseBlockOneBlock: with one centre (int(T*keep/L²) = 1) and
// keep = L², the kept cells are exactly the L x L block around some cell,
// clamped at the border (where it covers fewer cells, random cells top
// the count up to L², so the block is a subset of the kept cells).
func TestInverseBlockOneBlock(t *testing.T) {
	const gh, gw, L = 6, 6, 3
	p := 1 - 9.5/36.0 // keep int(9.5) = 9 = L²; centres int(36*(9.5/36)/9) = 1
	dst := make([]bool, gh*gw)
	block := func(c int) []int {
		var out []int
		for i := 0; i < L; i++ {
			for j := 0; j < L; j++ {
				y, x := min(max(c/gw+i-L/2, 0), gh-1), min(max(c%gw+j-L/2, 0), gw-1)
				out = append(out, y*gw+x)
			}
		}
		return out
	}
	for s := 0; s < 50; s++ {
		InverseBlock(NewCloneRNG(1, int64(s), 0, 0), gh, gw, p, L, 0, dst)
		if k := gh*gw - countTrue(dst); k != 9 {
			t.Fatalf("seed %d: %d kept, want 9", s, k)
		}
		found := false
		for c := 0; c < gh*gw && !found; c++ {
			found = true
			for _, i := range block(c) {
				found = found && !dst[i]
			}
		}
		if !found {
			t.Fatalf("seed %d: the kept cells %s contain no clamped 3x3 block", s, maskString(dst))
		}
	}
}

func TestCloneMasksPureAndDistinct(t *testing.T) {
	const B, M, T = 3, 4, 64
	draw := func(r *rand.Rand, row []bool) { InverseBlock(r, 8, 8, 0.8, 3, 0.07, row) }
	a, b := make([]bool, B*M*T), make([]bool, B*M*T)
	CloneMasks(9, 100, 0, B, M, T, a, draw)
	CloneMasks(9, 100, 0, B, M, T, b, draw)
	if !slices.Equal(a, b) {
		t.Fatal("same (seed, step) gave different clone masks")
	}
	// Rank 1 holding samples 1..2 draws the same rows as rank 0's samples 1..2.
	c := make([]bool, 2*M*T)
	CloneMasks(9, 100, 1, 2, M, T, c, draw)
	if !slices.Equal(c, a[M*T:]) {
		t.Error("a batch starting at sample 1 drew other masks than the same samples in a batch from 0")
	}
	seen := map[string]bool{}
	for r := 0; r < B*M; r++ {
		seen[maskString(a[r*T:(r+1)*T])] = true
		if k := T - countTrue(a[r*T:(r+1)*T]); k != 12 {
			t.Errorf("row %d keeps %d, want 12", r, k)
		}
	}
	if len(seen) != B*M {
		t.Errorf("%d distinct masks among %d clones, want all distinct", len(seen), B*M)
	}
	CloneMasks(10, 100, 0, B, M, T, b, draw)
	if slices.Equal(a, b) {
		t.Error("another seed gave the same masks")
	}
	CloneMasks(9, 101, 0, B, M, T, b, draw)
	if slices.Equal(a, b) {
		t.Error("another step gave the same masks")
	}
}

func maskString(m []bool) string {
	var s strings.Builder
	for _, v := range m {
		if v {
			s.WriteByte('1')
		} else {
			s.WriteByte('0')
		}
	}
	return s.String()
}

func TestValidateInverseBlock(t *testing.T) {
	for _, c := range []struct {
		gh, gw int
		p      float64
		l      int
		adj    float64
		key    string
	}{
		{0, 8, 0.8, 3, 0.07, "grid"},
		{8, 8, 1, 3, 0.07, "mask_prob"},
		{8, 8, 0, 3, 0.07, "mask_prob"},
		{8, 8, 0.8, 9, 0.07, "block_width"},
		{8, 8, 0.8, 0, 0.07, "block_width"},
		{8, 8, 0.8, 3, -0.1, "adjust"},
		{2, 2, 0.8, 1, 0, "mask_prob"}, // keeps int(0.8) = 0
	} {
		err := ValidateInverseBlock(c.gh, c.gw, c.p, c.l, c.adj)
		if err == nil || !strings.Contains(err.Error(), c.key) {
			t.Errorf("ValidateInverseBlock(%d, %d, %g, %d, %g) = %v, want an error naming %s", c.gh, c.gw, c.p, c.l, c.adj, err, c.key)
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("InverseBlock with a wrong len(dst) did not panic")
		}
	}()
	InverseBlock(NewCloneRNG(0, 0, 0, 0), 8, 8, 0.8, 3, 0.07, make([]bool, 63))
}
