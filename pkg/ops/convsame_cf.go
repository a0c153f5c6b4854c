package ops

import "github.com/d2v/d2v/pkg/vmath"

// The channels-first path of ConvSame, for grouped convs with at most 16
// channels per group (the image and speech decoders' 16 groups). There
// the im2col path's products are small (Og columns, KC = K*K*Cg deep) and
// building its matrix costs as much as they do; this path builds none.
//
// Each channel of a chunk of samples is laid out as one row of zero-padded
// planes (xp): a sample's plane is Hp x Wp = (H+ph) x (W+pw) values, its
// data at rows [ph, ph+H) and columns [pw, pw+W), with ph = kh/2, pw =
// kw/2; neighbours share their padding (a row's right padding is the next
// row's left padding, a sample's bottom padding the next sample's top), so
// ps = Hp*Wp values per sample, and the row ends with ph*Wp + kw zeros.
// Outputs are computed on the same grid, Q = H*Wp positions per sample
// (the padding columns of each row are computed and dropped), because
// there a kernel tap (i, j) is a constant shift i*Wp+j of the whole row:
//
//	yT[o][n]          = b[o] + sum_{c, tap} w[o, c, tap] * xp[g*Cg+c][n + shift(tap)]
//	dxp[g*Cg+c][n+sh] += sum_{o in g, tap} w[o, c, tap] * dyT[o][n]
//	dw[o, c, tap]     = sum_n dyT[o][n] * xp[g*Cg+c][n + shift(tap)]
//
// for n over the first L = (ns-1)*ps + Q positions of the row (dyT is zero
// on the dropped positions). The first two are sums of shifted rows
// (vmath.TapSum: 32 outputs held in registers while every (c, tap) term
// is added), the third dot products of one row with shifted windows
// (vmath.DotShifts, eight at a time); each sum runs in a fixed order, so
// results do not depend on the number of workers.

// convCFMaxCg is the largest Cg that takes the channels-first path; a
// variable so that tests can run either path on any shape. BenchmarkConvSame
// shapes, fwd+bwd, channels-first vs im2col (commit ab63b48, best of 3 on 2
// busy cores): Cg 8 (128 channels, 16 groups, 8x8 grid, K 3, 32 samples)
// 9.3 vs 25.7 ms; Cg 16 the same with 8 groups 14.3 vs 13.9 ms, and 1-D (64
// samples of 64, K 7) 11 vs 19.5 ms; Cg 32 (4 groups) 29 vs 18.8 ms; Cg 64
// (text: 1 group of 64, K 9) 206 vs 81 ms.
var convCFMaxCg = 16

func (k convSame) channelsFirst() bool { return k.cg() <= convCFMaxCg }

// cfGeom returns the padded row width Wp = W + kw/2, the per-sample
// stride ps = (H + kh/2)*Wp and Q = H*Wp.
func (k convSame) cfGeom() (wp, ps, q int) {
	wp = k.gw + k.kw/2
	return wp, (k.gh + k.kh/2) * wp, k.gh * wp
}

// cfRow is the distance between two channel rows for ns samples: their
// planes, the last one's bottom padding, kw values of slack (read by the
// dropped columns) and 32 more (sums run over whole blocks of 32
// positions, see up32), rounded by cfStride.
func (k convSame) cfRow(ns int) int {
	wp, ps, _ := k.cfGeom()
	return cfStride(ns*ps + (k.kh/2)*wp + k.kw + 32)
}

// up32 rounds a row length up to whole blocks of 32 positions: the vector
// kernels then have no scalar tail, and the extra positions, like the
// dropped columns, are computed into the row's slack and never read.
func up32(n int) int { return (n + 31) &^ 31 }

// cfShift is the row offset of tap (i, j) = (tap/kw, tap%kw).
func (k convSame) cfShift(tap int) int {
	wp, _, _ := k.cfGeom()
	return (tap/k.kw)*wp + tap%k.kw
}

// cfStride is the distance between two channel rows of n values: n
// rounded up to whole 64-byte lines, plus one line when that is an even
// number of lines. Rows a power-of-two-ish distance apart map to the same
// few L1 sets, and the transposes below touch one value of every row in
// turn; an odd number of lines spreads them over all sets.
func cfStride(n int) int {
	lines := (n + 15) / 16
	if lines%2 == 0 {
		lines++
	}
	return lines * 16
}

// cfPad writes the ns samples from s0 of x (rows, Cin) into xp (Cin rows
// of ns*ps values, cfStride apart), zero-padded: cfGrid into each
// sample's data rows (their padding columns zeroed with them), the top
// padding rows and the row's tail cleared here.
func cfPad[T Float](k convSame, xp, x, tmp []T, s0, ns int) {
	wp, ps, _ := k.cfGeom()
	ph, rs := k.kh/2, k.cfRow(ns)
	for ch := 0; ch < k.cin; ch++ {
		clear(xp[ch*rs+ns*ps : (ch+1)*rs]) // the last sample's bottom padding and the slack
		for s := 0; s < ns; s++ {
			clear(xp[ch*rs+s*ps:][:ph*wp])
		}
	}
	cfGrid(k, x, xp, tmp, k.cin, s0, ns, ph*wp, k.kw/2, false)
}

// cfGrid moves the real positions of the ns samples from s0 between the
// channels-first rows cf (C rows of ns*ps values, cfStride apart) and the
// channels-last rows cl (rows, C): into cl when toLast, else into cf. In a
// sample's plane, the Q = H*Wp values from base hold grid row r at
// [r*Wp, (r+1)*Wp), its W real positions from column c0. Per sample the
// whole span is transposed at once (vmath.Transpose: 8x8 blocks in
// registers) through tmp (Q x C per worker), and the real positions are
// copied between tmp and cl a grid row at a time; into cf, the span's
// other values become zeros.
func cfGrid[T Float](k convSame, cl, cf, tmp []T, c, s0, ns, base, c0 int, toLast bool) {
	wp, ps, q := k.cfGeom()
	rs, w := k.cfRow(ns), k.gw*c
	parallel(ns, 1, func(wk, lo, hi int) {
		t := tmp[wk*q*c : (wk+1)*q*c]
		for s := lo; s < hi; s++ {
			span, blk := cf[s*ps+base:], cl[(s0+s)*k.gh*w:][:k.gh*w]
			if toLast {
				transposeT(t, c, span, rs, c, q) // (C, Q) -> (Q, C)
				for r := 0; r < k.gh; r++ {
					copy(blk[r*w:(r+1)*w], t[(r*wp+c0)*c:])
				}
				continue
			}
			clear(t)
			for r := 0; r < k.gh; r++ {
				copy(t[(r*wp+c0)*c:][:w], blk[r*w:(r+1)*w])
			}
			transposeT(span, rs, t, c, q, c) // (Q, C) -> (C, Q)
		}
	})
}

// cfTmp is the size of cfGrid's tmp: Q x C for every worker.
func (k convSame) cfTmp() int {
	_, _, q := k.cfGeom()
	return maxWorkers() * q * max(k.cin, k.cout)
}

// transposeT sets dst[j*ldd+i] = src[i*lds+j] for i < rows, j < cols
// (float32: vmath.Transpose).
func transposeT[T Float](dst []T, ldd int, src []T, lds, rows, cols int) {
	if d32, ok := any(dst).([]float32); ok {
		vmath.Transpose(d32, ldd, any(src).([]float32), lds, rows, cols)
		return
	}
	for i := 0; i < rows; i++ {
		for j, v := range src[i*lds : i*lds+cols] {
			dst[j*ldd+i] = v
		}
	}
}

// tapSum sets y[i] += sum_k w[k]*x[off[k]+i] (float32: vmath.TapSum).
func tapSum[T Float](y, x []T, off []int, w []T) {
	if y32, ok := any(y).([]float32); ok {
		vmath.TapSum(y32, any(x).([]float32), off, any(w).([]float32))
		return
	}
	for k, o := range off {
		xs := x[o : o+len(y)]
		for i := range y {
			y[i] += w[k] * xs[i]
		}
	}
}

// tapSum2 is tapSum on two outputs with the same taps (float32:
// vmath.TapSum2, which loads each x value once for both).
func tapSum2[T Float](y0, y1, x []T, off []int, w0, w1 []T) {
	if y32, ok := any(y0).([]float32); ok {
		vmath.TapSum2(y32, any(y1).([]float32), any(x).([]float32), off, any(w0).([]float32), any(w1).([]float32))
		return
	}
	tapSum(y0, x, off, w0)
	tapSum(y1, x, off, w1)
}

// pairs runs f over the units (first, second) of g groups of m members:
// consecutive members two at a time, the last one alone (second = -1)
// when m is odd; units are split over the workers.
func pairs(g, m int, f func(first, second int)) {
	per := (m + 1) / 2
	parallel(g*per, 1, func(_, lo, hi int) {
		for u := lo; u < hi; u++ {
			first := (u/per)*m + 2*(u%per)
			if second := first + 1; second < (u/per+1)*m {
				f(first, second)
			} else {
				f(first, -1)
			}
		}
	})
}

// cfOffsets returns, for every group, the TapSum offsets (c, tap) of its
// Cg input rows in xp (rows rs apart) at each tap's shift, in the order of
// PyTorch's weight layout (o, c, tap).
func (k convSame) cfOffsets(rs int) [][]int {
	taps, cg := k.kh*k.kw, k.cg()
	offs := make([][]int, k.groups)
	for g := range offs {
		for c := 0; c < cg; c++ {
			for tap := 0; tap < taps; tap++ {
				offs[g] = append(offs[g], (g*cg+c)*rs+k.cfShift(tap))
			}
		}
	}
	return offs
}

// dotShifts sets out[k] = sum_i d[i]*x[off[k]+i] (float32: vmath.DotShifts).
func dotShifts[T Float](out, d, x []T, off []int) {
	if out32, ok := any(out).([]float32); ok {
		vmath.DotShifts(out32, any(d).([]float32), any(x).([]float32), off)
		return
	}
	for k, o := range off {
		xs := x[o : o+len(d)]
		var s T
		for i, v := range d {
			s += v * xs[i]
		}
		out[k] = s
	}
}

func convSameFwdCF[T Float](k convSame, y, x, w, b []T) {
	cg, og, taps, ch := k.cg(), k.og(), k.kh*k.kw, k.chunk()
	_, ps, q := k.cfGeom()
	buf, put := convScratch[T](k.cfScratch(ch)) // the backward's size: one size per shape keeps the pool from thrashing
	defer put()
	full := k.cfRow(ch)
	xp, yt := buf[:k.cin*full], buf[k.cin*full:(k.cin+k.cout)*full]
	tmp := buf[len(buf)-k.cfTmp():]
	for s0 := 0; s0 < k.b; s0 += ch {
		ns := min(ch, k.b-s0)
		rs, l := k.cfRow(ns), up32((ns-1)*ps+q)
		cfPad(k, xp, x, tmp, s0, ns)
		offs := k.cfOffsets(rs)
		row := func(o int) []T {
			r := yt[o*rs : o*rs+l]
			for i := range r {
				r[i] = b[o]
			}
			return r
		}
		pairs(k.groups, og, func(o, o2 int) { // two output channels of a group share their input rows
			wo := w[o*cg*taps : (o+1)*cg*taps]
			if o2 < 0 {
				tapSum(row(o), xp, offs[o/og], wo)
				return
			}
			tapSum2(row(o), row(o2), xp, offs[o/og], wo, w[o2*cg*taps:(o2+1)*cg*taps])
		})
		cfGrid(k, y, yt, tmp, k.cout, s0, ns, 0, 0, true) // the real positions, channels last
	}
}

// cfScratch is the backward's scratch size for chunks of ch samples: xp,
// dxp, dyt behind a guard of zeros as long as the largest shift, and
// cfGrid's tmp.
func (k convSame) cfScratch(ch int) int {
	return (2*k.cin+k.cout)*k.cfRow(ch) + k.cfShift(k.kh*k.kw-1) + k.cfTmp()
}

func convSameBwdCF[T Float](k convSame, dx, dw, db, x, w, dy []T) {
	taps, ch := k.kh*k.kw, k.chunk()
	wp, ps, q := k.cfGeom()
	guard := k.cfShift(taps - 1)
	buf, put := convScratch[T](k.cfScratch(ch))
	defer put()
	full := k.cfRow(ch)
	xp, dxp := buf[:k.cin*full], buf[k.cin*full:2*k.cin*full]
	dytG := buf[2*k.cin*full : len(buf)-k.cfTmp()] // guard zeros, then dyt
	tmp := buf[len(buf)-k.cfTmp():]
	clear(dytG[:guard])
	colSum(db, dy, k.rows(), k.cout)
	for s0 := 0; s0 < k.b; s0 += ch {
		ns := min(ch, k.b-s0)
		rs := k.cfRow(ns)
		dyt := dytG[guard : guard+k.cout*rs]
		cfPad(k, xp, x, tmp, s0, ns)
		clear(dyt) // zero on the dropped positions and between rows
		cfGrid(k, dy, dyt, tmp, k.cout, s0, ns, 0, 0, false)
		cfWeightGrad(k, dw, dyt, xp, rs, up32((ns-1)*ps+q), s0 > 0) // dyt is zero beyond the real positions
		cfInputGrad(k, dxp, dytG[:guard+k.cout*rs], w, guard, rs, up32(ns*ps))
		cfGrid(k, dx, dxp, tmp, k.cin, s0, ns, (k.kh/2)*wp, k.kw/2, true) // dx = the real positions of dxp
	}
}

// cfWeightGrad sets dw (or adds to it, for a later chunk) the dot products
// dw[o, c, tap] = sum_{n < l} dyt[o][n] * xp[g*Cg+c][n + shift(tap)].
func cfWeightGrad[T Float](k convSame, dw, dyt, xp []T, rs, l int, add bool) {
	cg, og, taps := k.cg(), k.og(), k.kh*k.kw
	offs := k.cfOffsets(rs)
	parallel(k.cout, 1, func(_, lo, hi int) {
		part := make([]T, cg*taps)
		for o := lo; o < hi; o++ {
			dotShifts(part, dyt[o*rs:o*rs+l], xp[:k.cin*rs], offs[o/og])
			dwo := dw[o*cg*taps : (o+1)*cg*taps]
			for j, v := range part {
				if add {
					v += dwo[j]
				}
				dwo[j] = v
			}
		}
	})
}

// cfInputGrad sets the first n values of every row of dxp:
// dxp[ci][t] = sum_{o in g, tap} w[o, c, tap] * dyt[o][t - shift(tap)],
// read from dytG (the guard, then dyt's rows rs apart), whose guard and
// zero row tails stand for t < shift. Two input channels of a group share
// the offsets (TapSum2).
func cfInputGrad[T Float](k convSame, dxp, dytG, w []T, guard, rs, n int) {
	cg, og, taps := k.cg(), k.og(), k.kh*k.kw
	pairs(k.groups, cg, func(ci, ci2 int) {
		g := ci / cg
		off, wc := make([]int, 0, og*taps), make([]T, 0, 2*og*taps)
		for _, c := range []int{ci, ci2} {
			if c < 0 {
				break
			}
			for o := g * og; o < (g+1)*og; o++ {
				for tap := 0; tap < taps; tap++ {
					if c == ci {
						off = append(off, guard+o*rs-k.cfShift(tap))
					}
					wc = append(wc, w[(o*cg+c%cg)*taps+tap])
				}
			}
		}
		row := dxp[ci*rs : ci*rs+n]
		clear(row)
		if ci2 < 0 {
			tapSum(row, dytG, off, wc)
			return
		}
		row2 := dxp[ci2*rs : ci2*rs+n]
		clear(row2)
		tapSum2(row, row2, dytG, off, wc[:og*taps], wc[og*taps:])
	})
}
