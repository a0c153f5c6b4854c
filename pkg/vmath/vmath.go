package vmath

import (
	"fmt"
	"sync/atomic"
)

// Range limits of Exp, as float32 values. expLo is the smallest float32
// whose exp is a normal float32 (just above ln 2^-126); expHi the largest
// whose exp is finite (just below 128 ln 2). Below expLo Exp gives 0 (no
// subnormal results); above expHi, +Inf.
const (
	expLo float32 = -87.33654 // 0xc2aeac4f
	expHi float32 = 88.72283  // 0x42b17217
)

var forceFallback atomic.Bool

// SetFallback forces (true) or un-forces (false) the pure-Go kernels even
// where the assembly ones are available, and returns the previous setting.
// Meant for tests and comparisons.
func SetFallback(on bool) (prev bool) { return forceFallback.Swap(on) }

// Accelerated reports whether the assembly kernels are in use (AVX2+FMA
// available and the fallback not forced).
func Accelerated() bool { return haveAsm && !forceFallback.Load() }

// Exp sets dst[i] = exp(src[i]) (dst and src may be the same slice).
// Relative error <= 2e-7 against float64 math.Exp over [-87, 88]; inputs
// below -87.33654 give 0, above 88.72283 give +Inf; NaN stays NaN. It
// panics if the lengths differ.
func Exp(dst, src []float32) {
	if len(dst) != len(src) {
		panic(fmt.Sprintf("vmath: Exp: len(dst) %d != len(src) %d", len(dst), len(src)))
	}
	if len(src) == 0 {
		return
	}
	if Accelerated() {
		expAVX(&dst[0], &src[0], len(src))
		return
	}
	expGo(dst, src)
}

// SoftmaxRows normalises each row of x (consecutive rows of length n) in
// place: x = exp(x - rowmax) / sum(exp(x - rowmax)). Rows may hold -Inf
// (masked) entries as long as their maximum is finite; a row with a NaN, a
// +Inf or no finite entry comes out NaN. It panics unless n > 0 and
// len(x) is a multiple of n (an empty x is accepted for any n).
func SoftmaxRows(x []float32, n int) {
	if len(x) == 0 {
		return
	}
	if n <= 0 || len(x)%n != 0 {
		panic(fmt.Sprintf("vmath: SoftmaxRows: len(x) %d is not a positive multiple of n %d", len(x), n))
	}
	if Accelerated() {
		softmaxAVX(&x[0], len(x)/n, n)
		return
	}
	softmaxGo(x, n)
}

// GELU sets y[i] = 0.5*x*(1+erf(x/sqrt 2)), the exact-erf GELU, with
// absolute error <= 1e-6*max(1,|x|) (erf from Abramowitz & Stegun 7.1.26).
// y and x may be the same slice; it panics if the lengths differ. NaN gives
// NaN, +Inf gives +Inf and -Inf gives NaN (as the scalar formula does).
func GELU(y, x []float32) {
	if len(y) != len(x) {
		panic(fmt.Sprintf("vmath: GELU: len(y) %d != len(x) %d", len(y), len(x)))
	}
	if len(x) == 0 {
		return
	}
	if Accelerated() {
		geluAVX(&y[0], &x[0], len(x))
		return
	}
	geluGo(y, x)
}

// GELUGrad sets dx[i] = dy[i] * (Phi(x) + x*phi(x)), the derivative of GELU
// at x[i] times dy[i], with Phi = 0.5*(1+erf(x/sqrt 2)) and phi =
// exp(-x^2/2)/sqrt(2 pi). dx may be the same slice as x or dy; it panics if
// the lengths differ. The absolute error is <= 1e-6*max(1,|dy|); NaN and
// +-Inf in x give NaN.
func GELUGrad(dx, x, dy []float32) {
	if len(dx) != len(x) || len(dy) != len(x) {
		panic(fmt.Sprintf("vmath: GELUGrad: lengths dx %d, x %d, dy %d differ", len(dx), len(x), len(dy)))
	}
	if len(x) == 0 {
		return
	}
	if Accelerated() {
		geluGradAVX(&dx[0], &x[0], &dy[0], len(x))
		return
	}
	geluGradGo(dx, x, dy)
}
