package ops

import "math"

// exp32 is exp(x) to float32 accuracy (relative error < 2e-8 in float64,
// i.e. exact after rounding to float32 in almost all cases) for the float32
// kernels: 2^n * p(r) with x*log2(e) = n + r, |r| <= 1/2, and p a degree-7
// Taylor polynomial of 2^r. About 4x faster than math.Exp. Inputs below -87
// flush to 0 and above 88 give +Inf, as float32 would.
func exp32(x float64) float64 {
	if x < -87.33655 {
		return 0
	}
	if x > 88.72284 {
		return math.Inf(1)
	}
	const round = 0x1.8p52 // adding and subtracting it rounds to the nearest integer
	t := x * math.Log2E
	n := (t + round) - round
	r := (t - n) * math.Ln2 // |r| <= ln2/2
	p := 1 + r*(1+r*(1.0/2+r*(1.0/6+r*(1.0/24+r*(1.0/120+r*(1.0/720+r*(1.0/5040)))))))
	return p * math.Float64frombits(uint64(int64(n)+1023)<<52)
}

// expOf is math.Exp for float64 kernels (gradient checks) and exp32 for float32.
func expOf[T Float](x float64) float64 {
	var z T
	if _, ok := any(z).(float64); ok {
		return math.Exp(x)
	}
	return exp32(x)
}
