package vmath

import "fmt"

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

// TapSum adds a sum of shifted, scaled copies of x to y (a correlation
// with arbitrary taps, the inner loop of a convolution over a padded row):
//
//	y[i] += w[0]*x[off[0]+i] + w[1]*x[off[1]+i] + ...   for i < len(y)
//
// the terms added to y[i] in order of k. The assembly uses fused
// multiply-adds (one rounding per term), the Go path rounds each product
// too (two), so the paths agree to float32 rounding, not bit for bit; each
// is deterministic. It panics unless len(w) == len(off), every off[k] >= 0
// and off[k]+len(y) <= len(x).
func TapSum(y, x []float32, off []int, w []float32) {
	tapCheck("TapSum", len(y), len(x), off, len(w))
	head := 0
	if Accelerated() && len(y) >= 32 && len(off) > 0 {
		head = len(y) &^ 31
		tapSumAVX(&y[0], &x[0], &off[0], &w[0], len(off), head/32)
	}
	tapSumGo(y[head:], x[head:], off, w)
}

// TapSum2 is TapSum for two outputs with the same taps: y0 with weights
// w0, y1 with w1 (two output channels of one group). Each x value loaded
// serves both, which is what makes it faster than two TapSum calls; the
// results are those of two TapSum calls, bit for bit.
func TapSum2(y0, y1, x []float32, off []int, w0, w1 []float32) {
	tapCheck("TapSum2", len(y0), len(x), off, len(w0))
	if len(y1) != len(y0) || len(w1) != len(w0) {
		panic("vmath: TapSum2: y0, y1 or w0, w1 differ in length")
	}
	head := 0
	if Accelerated() && len(y0) >= 32 && len(off) > 0 {
		head = len(y0) &^ 31
		tapSum2AVX(&y0[0], &y1[0], &x[0], &off[0], &w0[0], &w1[0], len(off), head/32)
	}
	tapSumGo(y0[head:], x[head:], off, w0)
	tapSumGo(y1[head:], x[head:], off, w1)
}

func tapCheck(name string, ny, nx int, off []int, nw int) {
	if nw != len(off) {
		panic("vmath: " + name + ": len(w) != len(off)")
	}
	for _, o := range off {
		if o < 0 || o+ny > nx {
			panic("vmath: " + name + ": offset out of range")
		}
	}
}

func tapSumGo(y, x []float32, off []int, w []float32) {
	for k, o := range off {
		xs, a := x[o:o+len(y)], w[k]
		for i := range y {
			y[i] += float32(a * xs[i])
		}
	}
}

// DotShifts sets out[k] = sum_i d[i]*x[off[k]+i] over i < len(d): the dot
// products of one row with shifted windows of another (a convolution's
// weight gradient). Eight terms are computed together, each with 8 lanes:
// element i goes to lane i%8, and the lanes are added in a fixed tree. The
// assembly accumulates with fused multiply-adds, the Go path rounds each
// product, so the paths agree to float32 rounding, not bit for bit; each
// is deterministic. It reads d once per eight terms, where separate dot
// products read it once per term. It panics unless len(out) == len(off),
// every off[k] >= 0 and off[k]+len(d) <= len(x).
func DotShifts(out, d, x []float32, off []int) {
	if len(out) != len(off) {
		panic("vmath: DotShifts: len(out) != len(off)")
	}
	for _, o := range off {
		if o < 0 || o+len(d) > len(x) {
			panic("vmath: DotShifts: offset out of range")
		}
	}
	var acc [8][8]float32
	var grp [8]int
	head := len(d) &^ 7
	if !Accelerated() {
		head = 0
	}
	for k0 := 0; k0 < len(off); k0 += 8 {
		n := copy(grp[:], off[k0:])
		for j := n; j < 8; j++ {
			grp[j] = grp[0] // padding terms: computed, then dropped
		}
		acc = [8][8]float32{}
		if head > 0 {
			dotShiftsAVX(&acc, &d[0], &x[0], &grp, head/8)
		}
		for j := 0; j < n; j++ {
			a := &acc[j]
			dotLanes8(a, d[head:], x[grp[j]+head:])
			out[k0+j] = ((a[0] + a[4]) + (a[2] + a[6])) + ((a[1] + a[5]) + (a[3] + a[7]))
		}
	}
}

// dotLanes8 adds d[i]*x[i] into lane i%8 (i counted from a multiple of 8).
func dotLanes8(a *[8]float32, d, x []float32) {
	x = x[:len(d)]
	for i, v := range d {
		a[i%8] += float32(v * x[i])
	}
}

// Transpose sets dst[j*ldd+i] = src[i*lds+j] for i < rows, j < cols: a
// rows x cols matrix with leading dimension lds into its cols x rows
// transpose with leading dimension ldd. Whole 8x8 blocks go through
// registers (AVX2), the edges through a Go loop. It panics if a leading
// dimension is too small or a slice too short.
func Transpose(dst []float32, ldd int, src []float32, lds int, rows, cols int) {
	if rows <= 0 || cols <= 0 {
		return
	}
	if lds < cols || ldd < rows || len(src) < (rows-1)*lds+cols || len(dst) < (cols-1)*ldd+rows {
		panic(fmt.Sprintf("vmath: Transpose: %dx%d with lds %d (len %d), ldd %d (len %d)", rows, cols, lds, len(src), ldd, len(dst)))
	}
	i0, j8 := 0, 0
	if Accelerated() && cols >= 8 {
		j8 = cols &^ 7
		for ; i0+8 <= rows; i0 += 8 {
			transpose8AVX(&dst[i0], ldd, &src[i0*lds], lds, j8/8)
		}
	}
	transposeGo(dst, ldd, src, lds, 0, i0, j8, cols) // right edge of the blocked rows
	transposeGo(dst, ldd, src, lds, i0, rows, 0, cols)
}

// transposeGo transposes rows [i0, i1) x columns [j0, j1).
func transposeGo(dst []float32, ldd int, src []float32, lds int, i0, i1, j0, j1 int) {
	for i := i0; i < i1; i++ {
		row := src[i*lds : i*lds+j1]
		for j := j0; j < j1; j++ {
			dst[j*ldd+i] = row[j]
		}
	}
}
