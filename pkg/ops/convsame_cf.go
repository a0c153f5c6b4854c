package ops

import "github.com/d2v/d2v/pkg/vmath"

// The channels-first path of ConvSame, for grouped convs with few channels
// per group (the image and speech decoders' 16 groups). There the im2col
// path's products are small (Og columns, KC = K*K*Cg deep) and building
// its matrix costs as much as they do; this path builds no im2col matrix.
//
// Each channel of a chunk of samples is laid out as zero-padded planes of
// Hp x Wp = (H+kh-1) x (W+kw-1) values, one row of ns*ps values per channel
// (xp; ps = Hp*Wp plus kw values of slack). Outputs are computed on the
// same grid, Q = H*Wp positions per sample (the kw-1 extra columns of each
// row are computed and dropped), because there a kernel tap (i, j) is a
// constant shift i*Wp+j of the whole row:
//
//	yT[o][n]          = b[o] + sum_{c, tap} w[o, c, tap] * xp[g*Cg+c][n + shift(tap)]
//	dxp[g*Cg+c][n+sh] += sum_{o in g, tap} w[o, c, tap] * dyT[o][n]
//	dw[o, c, tap]     = sum_n dyT[o][n] * xp[g*Cg+c][n + shift(tap)]
//
// for n over the first L = (ns-1)*ps + Q positions of the row (dyT is zero
// on the dropped positions). The first two are AXPYs over whole rows
// (vmath.AXPBY), the third dot products (vmath.Dot); each sum runs in a
// fixed order, so results do not depend on the number of workers.

// convCFMaxCg is the largest Cg that takes the channels-first path; a
// variable so that tests can run either path on any shape. Measured CPU
// time per op (BenchmarkConvSame, fwd+bwd, 2 busy cores): Cg 4 (64
// channels, 16 groups) 8.75 ms here vs 18 ms through im2col; Cg 8 (128, 16)
// 12.5 vs 16.5 ms; Cg 32 (128, 4) 36 vs 15 ms.
var convCFMaxCg = 8

func (k convSame) channelsFirst() bool { return k.cg() <= convCFMaxCg }

// cfGeom returns the padded row width, the per-sample stride ps (Hp*Wp
// plus kw values of slack, which the dropped columns read) and Q.
func (k convSame) cfGeom() (wp, ps, q int) {
	wp = k.gw + k.kw - 1
	return wp, (k.gh+k.kh-1)*wp + k.kw, k.gh * wp
}

// cfShift is the row offset of tap (i, j) = (tap/kw, tap%kw).
func (k convSame) cfShift(tap int) int {
	wp, _, _ := k.cfGeom()
	return (tap/k.kw)*wp + tap%k.kw
}

// cfPad writes the ns samples from s0 of x (rows, Cin) into xp (Cin rows
// of ns*ps), zero-padded. A sample at a time, grid row by grid row and
// channel by channel: writes are contiguous runs, and the strided reads
// stay within the sample's values (in L1 at the decoders' sizes).
func cfPad[T Float](k convSame, xp, x []T, s0, ns int) {
	wp, ps, _ := k.cfGeom()
	ph, pw := k.kh/2, k.kw/2
	n := ns * ps
	parallel(ns, 1, func(_, lo, hi int) {
		for s := lo; s < hi; s++ {
			for ch := 0; ch < k.cin; ch++ {
				clear(xp[ch*n+s*ps:][:ps])
			}
			for r := 0; r < k.gh; r++ {
				src := x[((s0+s)*k.gh+r)*k.gw*k.cin:][:k.gw*k.cin]
				off := s*ps + (r+ph)*wp + pw
				for ch := 0; ch < k.cin; ch++ {
					dst := xp[ch*n+off:][:k.gw]
					for c := range dst {
						dst[c] = src[c*k.cin+ch]
					}
				}
			}
		}
	})
}

// cfGrid copies the real positions of the ns samples from s0 between the
// channels-first rows cf (C rows of ns*ps; a position's offset in its
// sample's plane is r*Wp + c + off) and the channels-last rows cl
// (rows, C): into cl when toLast, else into cf (whose other values are
// left alone). A sample at a time, as cfPad.
func cfGrid[T Float](k convSame, cl, cf []T, c, s0, ns, off int, toLast bool) {
	wp, ps, _ := k.cfGeom()
	n := ns * ps
	parallel(ns, 1, func(_, lo, hi int) {
		for s := lo; s < hi; s++ {
			for r := 0; r < k.gh; r++ {
				row := cl[((s0+s)*k.gh+r)*k.gw*c:][:k.gw*c]
				o := s*ps + r*wp + off
				for ch := 0; ch < c; ch++ {
					plane := cf[ch*n+o:][:k.gw]
					if toLast {
						for j, v := range plane {
							row[j*c+ch] = v
						}
					} else {
						for j := range plane {
							plane[j] = row[j*c+ch]
						}
					}
				}
			}
		}
	})
}

// axpy sets d[i] += a*x[i] (float32: vmath.AXPBY, products and sums
// rounded separately, as the plain loop).
func axpy[T Float](d, x []T, a T) {
	if d32, ok := any(d).([]float32); ok {
		vmath.AXPBY(d32, any(x).([]float32), d32, float32(a), 1)
		return
	}
	x = x[:len(d)]
	for i := range d {
		d[i] += a * x[i]
	}
}

// dotT is sum x[i]*y[i] (float32: vmath.Dot).
func dotT[T Float](x, y []T) T {
	if x32, ok := any(x).([]float32); ok {
		return T(vmath.Dot(x32, any(y).([]float32)))
	}
	y = y[:len(x)]
	var s T
	for i := range x {
		s += x[i] * y[i]
	}
	return s
}

func convSameFwdCF[T Float](k convSame, y, x, w, b []T) {
	cg, og, taps, ch := k.cg(), k.og(), k.kh*k.kw, k.chunk()
	_, ps, q := k.cfGeom()
	buf, put := convScratch[T]((2*k.cin + k.cout) * ch * ps) // the backward's size: one size per shape keeps the pool from thrashing
	defer put()
	xp, yt := buf[:k.cin*ch*ps], buf[k.cin*ch*ps:]
	for s0 := 0; s0 < k.b; s0 += ch {
		ns := min(ch, k.b-s0)
		n, l := ns*ps, (ns-1)*ps+q
		cfPad(k, xp, x, s0, ns)
		parallel(k.cout, 1, func(_, lo, hi int) {
			for o := lo; o < hi; o++ {
				row := yt[o*n : o*n+l]
				for i := range row {
					row[i] = b[o]
				}
				g := o / og
				for c := 0; c < cg; c++ {
					src := xp[(g*cg+c)*n:]
					for tap := 0; tap < taps; tap++ {
						sh := k.cfShift(tap)
						axpy(row, src[sh:sh+l], w[(o*cg+c)*taps+tap])
					}
				}
			}
		})
		cfGrid(k, y, yt, k.cout, s0, ns, 0, true) // the real positions, channels last
	}
}

func convSameBwdCF[T Float](k convSame, dx, dw, db, x, w, dy []T) {
	cg, og, taps, ch := k.cg(), k.og(), k.kh*k.kw, k.chunk()
	wp, ps, q := k.cfGeom()
	ph, pw := k.kh/2, k.kw/2
	buf, put := convScratch[T]((2*k.cin + k.cout) * ch * ps)
	defer put()
	xp, dxp, dyt := buf[:k.cin*ch*ps], buf[k.cin*ch*ps:2*k.cin*ch*ps], buf[2*k.cin*ch*ps:]
	colSum(db, dy, k.rows(), k.cout)
	for s0 := 0; s0 < k.b; s0 += ch {
		ns := min(ch, k.b-s0)
		n, l := ns*ps, (ns-1)*ps+q
		cfPad(k, xp, x, s0, ns)
		clear(dyt[:k.cout*n]) // zero on the dropped positions
		cfGrid(k, dy, dyt, k.cout, s0, ns, 0, false)
		parallel(k.cout, 1, func(_, lo, hi int) { // dW, accumulated over chunks
			for o := lo; o < hi; o++ {
				g, d := o/og, dyt[o*n:o*n+l]
				for c := 0; c < cg; c++ {
					src := xp[(g*cg+c)*n:]
					for tap := 0; tap < taps; tap++ {
						sh := k.cfShift(tap)
						v := dotT(d, src[sh:sh+l])
						if s0 > 0 {
							v += dw[(o*cg+c)*taps+tap]
						}
						dw[(o*cg+c)*taps+tap] = v
					}
				}
			}
		})
		parallel(k.cin, 1, func(_, lo, hi int) { // dxp row by row: each channel's own sum
			for ci := lo; ci < hi; ci++ {
				g, c := ci/cg, ci%cg
				row := dxp[ci*n : (ci+1)*n]
				clear(row)
				for o := g * og; o < (g+1)*og; o++ {
					d := dyt[o*n : o*n+l]
					for tap := 0; tap < taps; tap++ {
						sh := k.cfShift(tap)
						axpy(row[sh:sh+l], d, w[(o*cg+c)*taps+tap])
					}
				}
			}
		})
		cfGrid(k, dx, dxp, k.cin, s0, ns, ph*wp+pw, true) // dx = the real positions of dxp
	}
}
