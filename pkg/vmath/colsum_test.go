package vmath

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestColSumBits checks ColSum against the plain loop bit for bit, for
// column counts around the 32-lane blocks, strided rows, and one row.
func TestColSumBits(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, rows := range []int{0, 1, 2, 7, 64, 513} {
		for _, cols := range []int{0, 1, 31, 32, 33, 64, 100, 512} {
			ld := cols + rng.IntN(3)
			src := make([]float32, rows*ld)
			for i := range src {
				src[i] = (rng.Float32()*2 - 1) * float32(math.Pow(10, float64(rng.IntN(8)-4)))
			}
			got, want := make([]float32, cols), make([]float32, cols)
			for i := range got {
				got[i] = float32(math.NaN()) // must be overwritten
			}
			ColSum(got, src, rows, ld)
			colsumGo(want, src, rows, ld)
			for j := range got {
				if math.Float32bits(got[j]) != math.Float32bits(want[j]) {
					t.Fatalf("rows=%d cols=%d ld=%d: dst[%d] = %v, want %v", rows, cols, ld, j, got[j], want[j])
				}
			}
		}
	}
}

func BenchmarkColSum(b *testing.B) {
	const rows, cols = 512, 512 // config S: fc1's bias gradient
	src, dst := make([]float32, rows*cols), make([]float32, cols)
	benchImpls(b, rows*cols*4, func() { ColSum(dst, src, rows, cols) })
}
