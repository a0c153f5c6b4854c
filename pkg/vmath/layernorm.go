package vmath

import (
	"fmt"
	"math"
)

// LayerNorm row kernels in float32: 8 lanes at a time where AVX2+FMA are
// available (the n%8 tail and other CPUs in Go). The statistics are two
// passes (mean, then the mean squared deviation), as torch's float32
// LayerNorm; sums run in float32 lanes, so results differ from a float64
// accumulation by a few float32 ulps of the mean and variance.

// LNStats returns the mean of x and 1/sqrt(var + eps), var the biased
// variance. It panics on an empty row.
func LNStats(x []float32, eps float32) (mean, rstd float32) {
	n := len(x)
	if n == 0 {
		panic("vmath: LNStats: empty row")
	}
	head := 0
	var s, q float32
	if Accelerated() && n >= 8 {
		head = n &^ 7
		s = sumAVX(&x[0], head)
	}
	for _, v := range x[head:] {
		s += v
	}
	mean = s / float32(n)
	if head > 0 {
		q = sqDevAVX(&x[0], head, mean)
	}
	for _, v := range x[head:] {
		d := v - mean
		q += d * d
	}
	return mean, float32(1 / math.Sqrt(float64(q/float32(n)+eps)))
}

// LNApply sets y = (x - mean)*rstd*g + b element by element.
func LNApply(y, x, g, b []float32, mean, rstd float32) {
	n := len(x)
	if len(y) != n || len(g) != n || len(b) != n {
		panic(fmt.Sprintf("vmath: LNApply: lengths y %d x %d g %d b %d differ", len(y), n, len(g), len(b)))
	}
	head := 0
	if Accelerated() && n >= 8 {
		head = n &^ 7
		lnApplyAVX(&y[0], &x[0], &g[0], &b[0], head, mean, rstd)
	}
	for j := head; j < n; j++ {
		y[j] = (x[j]-mean)*rstd*g[j] + b[j]
	}
}

// LNBackward is the LayerNorm gradient of one row: with xh = (x-mean)*rstd
// and dxh = dy*g, it adds dy*xh to dg and dy to db, and sets
//
//	dx = rstd * (dxh - mean(dxh) - xh*mean(dxh*xh)).
func LNBackward(dx, dg, db, x, g, dy []float32, mean, rstd float32) {
	n := len(x)
	if len(dx) != n || len(dg) != n || len(db) != n || len(g) != n || len(dy) != n || n == 0 {
		panic(fmt.Sprintf("vmath: LNBackward: lengths dx %d dg %d db %d x %d g %d dy %d differ or are 0",
			len(dx), len(dg), len(db), n, len(g), len(dy)))
	}
	head := 0
	var m1, m2 float32
	if Accelerated() && n >= 8 {
		head = n &^ 7
		m1, m2 = lnBwdSumsAVX(&x[0], &g[0], &dy[0], &dg[0], &db[0], head, mean, rstd)
	}
	for j := head; j < n; j++ {
		xh := (x[j] - mean) * rstd
		dxh := dy[j] * g[j]
		m1 += dxh
		m2 += dxh * xh
		dg[j] += dy[j] * xh
		db[j] += dy[j]
	}
	a, c := m1/float32(n), m2/float32(n)
	if head > 0 {
		lnBwdDxAVX(&dx[0], &x[0], &g[0], &dy[0], head, mean, rstd, a, c)
	}
	for j := head; j < n; j++ {
		xh := (x[j] - mean) * rstd
		dx[j] = rstd * (dy[j]*g[j] - a - xh*c)
	}
}
