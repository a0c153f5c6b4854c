package vmath

// SumSquares returns the sum of x[i]^2 in float64. Element i goes to lane
// i%16 of 16 float64 accumulators (each product of two float32s is exact
// in float64, so fused and separate multiply-adds agree), and the lanes
// are added in a fixed tree: every path gives the same bits.
func SumSquares(x []float32) float64 {
	var acc [16]float64
	head := 0
	if Accelerated() && len(x) >= 16 {
		head = len(x) &^ 15
		sumSquaresAVX(&acc, &x[0], head/16)
	}
	for i, v := range x[head:] {
		acc[i%16] += float64(v) * float64(v)
	}
	return laneSum(&acc)
}

// sumSquaresGo is SumSquares' portable statement of what the assembly does.
func sumSquaresGo(acc *[16]float64, x []float32) {
	for i, v := range x {
		acc[i%16] += float64(v) * float64(v)
	}
}

func laneSum(a *[16]float64) float64 {
	var s [8]float64
	for i := range s {
		s[i] = a[i] + a[i+8]
	}
	return ((s[0] + s[4]) + (s[2] + s[6])) + ((s[1] + s[5]) + (s[3] + s[7]))
}

// EMA sets t[i] = a*t[i] + b*s[i] for i < len(t): AXPBY(t, t, s, a, b).
func EMA(t, s []float32, a, b float32) { AXPBY(t, t, s, a, b) }

// AXPBY sets dst[i] = a*x[i] + b*y[i] for i < len(dst) (each product
// rounded to float32, then the sum: no fused multiply-add, on every path).
// dst may be x or y. It panics if x or y is shorter than dst.
func AXPBY(dst, x, y []float32, a, b float32) {
	x, y = x[:len(dst)], y[:len(dst)]
	head := 0
	if Accelerated() && len(dst) >= 8 {
		head = len(dst) &^ 7
		axpbyAVX(&dst[0], &x[0], &y[0], head/8, a, b)
	}
	axpbyGo(dst[head:], x[head:], y[head:], a, b)
}

func axpbyGo(dst, x, y []float32, a, b float32) {
	x, y = x[:len(dst)], y[:len(dst)]
	for i := range dst {
		dst[i] = float32(a*x[i]) + float32(b*y[i])
	}
}

// Dot returns the sum of x[i]*y[i] for i < len(x) in float32. Element i
// goes to lane i%32 of 32 accumulators, each product and each sum rounded
// to float32 (no fused multiply-add, on every path), and the lanes are
// added in a fixed tree, so the assembly and Go paths give the same bits.
// It panics if y is shorter than x.
func Dot(x, y []float32) float32 {
	y = y[:len(x)]
	var acc [32]float32
	head := 0
	if Accelerated() && len(x) >= 32 {
		head = len(x) &^ 31
		dotAVX(&acc, &x[0], &y[0], head/32)
	}
	dotGo(&acc, x[head:], y[head:])
	var s [8]float32
	for i := range s {
		s[i] = (acc[i] + acc[i+16]) + (acc[i+8] + acc[i+24])
	}
	return ((s[0] + s[4]) + (s[2] + s[6])) + ((s[1] + s[5]) + (s[3] + s[7]))
}

// dotGo adds x[i]*y[i] into lane i%32, as the assembly does.
func dotGo(acc *[32]float32, x, y []float32) {
	y = y[:len(x)]
	for i, v := range x {
		acc[i%32] += float32(v * y[i])
	}
}

// TapSum adds a sum of shifted, scaled copies of x to y (a correlation
// with arbitrary taps, the inner loop of a convolution over a padded row):
//
//	y[i] += w[0]*x[off[0]+i] + w[1]*x[off[1]+i] + ...   for i < len(y)
//
// each product rounded to float32 and added to y[i] in order of k (no
// fused multiply-add, on every path), so the assembly and Go paths give
// the same bits. It panics unless len(w) == len(off), every off[k] >= 0
// and off[k]+len(y) <= len(x).
func TapSum(y, x []float32, off []int, w []float32) {
	if len(w) != len(off) {
		panic("vmath: TapSum: len(w) != len(off)")
	}
	for _, o := range off {
		if o < 0 || o+len(y) > len(x) {
			panic("vmath: TapSum: offset out of range")
		}
	}
	head := 0
	if Accelerated() && len(y) >= 32 && len(off) > 0 {
		head = len(y) &^ 31
		tapSumAVX(&y[0], &x[0], &off[0], &w[0], len(off), head/32)
	}
	tapSumGo(y[head:], x[head:], off, w)
}

func tapSumGo(y, x []float32, off []int, w []float32) {
	for k, o := range off {
		xs, a := x[o:o+len(y)], w[k]
		for i := range y {
			y[i] += float32(a * xs[i])
		}
	}
}
