package masking

import (
	"fmt"
	"math/rand/v2"
)

// Random fills dst (len t) with exactly n true cells, every n-subset
// equally likely (Knuth's selection sampling, TAOCP vol. 2, 3.4.2
// Algorithm S: one pass, no scratch memory). It panics unless
// 0 <= n <= t = len(dst).
func Random(rng *rand.Rand, t, n int, dst []bool) {
	if len(dst) != t || n < 0 || n > t {
		panic(fmt.Sprintf("masking: Random: t %d, n %d, len(dst) %d; want 0 <= n <= t = len(dst)", t, n, len(dst)))
	}
	need := n
	for i := range dst {
		// Pick cell i with probability need / cells left.
		dst[i] = rng.IntN(t-i) < need
		if dst[i] {
			need--
		}
	}
}

// Positions appends the indices of the masked and of the visible cells of
// mask to masked and visible, both ascending, and returns them. With an
// exact count per sample, every sample yields the same lengths.
func Positions(mask []bool, masked, visible []int) ([]int, []int) {
	for i, m := range mask {
		if m {
			masked = append(masked, i)
		} else {
			visible = append(visible, i)
		}
	}
	return masked, visible
}
