package teacher

import "math"

// Moments adds the per-feature sum and sum of squares of the rows of x
// (n, d) to sum and sumsq (len d) and returns n. Summed over data-parallel
// ranks they give StdFromMoments the statistic Std computes on one process.
func Moments[F Float](x []F, d int, sum, sumsq []float64) int {
	n := len(x) / d
	for r := 0; r < n; r++ {
		for c, v := range x[r*d : (r+1)*d] {
			f := float64(v)
			sum[c] += f
			sumsq[c] += f * f
		}
	}
	return n
}

// StdFromMoments is Std from n rows' per-feature sums and sums of squares
// (mirrors fairseq data2vec compute_var's distributed branch:
// var = zss/(n-1) - zs^2/(n(n-1)), then mean of sqrt(var + 1e-6)).
func StdFromMoments(n float64, sum, sumsq []float64) float64 {
	if n < 2 {
		return 0
	}
	var total float64
	for c := range sum {
		v := sumsq[c]/(n-1) - sum[c]*sum[c]/(n*(n-1))
		total += math.Sqrt(max(v, 0) + 1e-6)
	}
	return total / float64(len(sum))
}
