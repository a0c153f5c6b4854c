package vmath

import "math"

// The pure-Go kernels: the same algorithms and special-value rules as the
// assembly, evaluated in float64 (so slightly more accurate) and rounded
// to float32 once.

// A&S 7.1.26 for erfc(z), z >= 0: t = 1/(1+asP*z),
// erfc(z) ~ t*(a1+t*(a2+t*(a3+t*(a4+t*a5))))*exp(-z^2), |error| < 1.5e-7.
const (
	asP  = 0.3275911
	asA1 = 0.254829592
	asA2 = -0.284496736
	asA3 = 1.421413741
	asA4 = -1.453152027
	asA5 = 1.061405429

	invSqrt2   = 0.70710678118654752440
	invSqrt2Pi = 0.39894228040143267794
)

// exp64 is exp(v) with Exp's range rules (v compared as float32): 2^n *
// p(r) for v = n ln2 + r, |r| <= ln2/2, p the degree-7 Taylor polynomial
// (relative error < 1e-8).
func exp64(v float64) float64 {
	switch {
	case v < float64(expLo):
		return 0
	case v > float64(expHi):
		return math.Inf(1)
	case v != v:
		return v
	}
	const round = 0x1.8p52 // adding and subtracting it rounds to an integer
	n := (v*math.Log2E + round) - round
	r := (v - n*0.693359375) - n*(math.Ln2-0.693359375)
	p := 1 + r*(1+r*(1.0/2+r*(1.0/6+r*(1.0/24+r*(1.0/120+r*(1.0/720+r*(1.0/5040)))))))
	return p * math.Float64frombits(uint64(int64(n)+1023)<<52)
}

func expGo(dst, src []float32) {
	dst = dst[:len(src)]
	for i, v := range src {
		dst[i] = float32(exp64(float64(v)))
	}
}

func softmaxGo(x []float32, n int) {
	for r := 0; r+n <= len(x); r += n {
		row := x[r : r+n]
		mx := row[0]
		for _, v := range row[1:] {
			mx = max(mx, v) // NaN propagates
		}
		var s float64
		for j, v := range row {
			e := float32(exp64(float64(v) - float64(mx))) // difference exact, as the TwoSum in the assembly
			row[j] = e
			s += float64(e)
		}
		inv := 1 / s
		for j, e := range row {
			row[j] = float32(float64(e) * inv)
		}
	}
}

// phiGo returns Phi(x) = 0.5*(1+erf(x/sqrt 2)) and g = exp(-x^2/2).
func phiGo(x float32) (phi, g float64) {
	v := float64(x)
	g = exp64(-0.5 * v * v)
	t := 1 / (1 + asP*invSqrt2*math.Abs(v))
	h := 0.5 * t * (asA1 + t*(asA2+t*(asA3+t*(asA4+t*asA5)))) * g // 0.5*erfc(|x|/sqrt 2)
	if v < 0 {
		return h, g
	}
	return 1 - h, g
}

func geluGo(y, x []float32) {
	y = y[:len(x)]
	for i, v := range x {
		phi, _ := phiGo(v)
		y[i] = float32(float64(v) * phi)
	}
}

func geluGradGo(dx, x, dy []float32) {
	dx = dx[:len(x)]
	dy = dy[:len(x)]
	for i, v := range x {
		phi, g := phiGo(v)
		dx[i] = float32(float64(dy[i]) * (phi + float64(v)*invSqrt2Pi*g))
	}
}
