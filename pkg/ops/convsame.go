package ops

import (
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// ConvSame1D is the data2vec 2.0 decoder's grouped 1-D convolution
// (fairseq Decoder1d: Conv1d with padding K/2, then SamePad) over
// time-major activations, with the output as long as the input:
//
//	x (B*T, Cin)          sample s's T steps are rows s*T .. s*T+T-1
//	w (Cout, Cin/groups, K) PyTorch's Conv1d weight layout (the fixture's)
//	b (Cout)
//	y (B*T, Cout)
//	y[s*T+t, o] = b[o] + sum_{c<Cg, j<K} w[o, c, j] * x[s*T + t+j-K/2, g*Cg+c]
//
// for g = o/(Cout/groups) and Cg = Cin/groups, terms outside [0, T) being
// zero. An even K reads one more step before t than after it: PyTorch's
// padding K/2 on both sides followed by SamePad's trim of the last output.
func ConvSame1D(x, w, b *G.Node, batch, groups int) (*G.Node, error) {
	if w.Dims() != 3 {
		return nil, fmt.Errorf("convsame1d %s: want w (Cout, Cin/groups, K), got %v", w.Name(), w.Shape())
	}
	if batch < 1 || x.Dims() != 2 || x.Shape()[0]%batch != 0 {
		return nil, fmt.Errorf("convsame1d %s: x %v is not (batch*T, Cin) for batch %d", w.Name(), x.Shape(), batch)
	}
	k := w.Shape()[2]
	return convSameNode(x, w, b, convSame{b: batch, gh: 1, gw: x.Shape()[0] / batch, kh: 1, kw: k, groups: groups})
}

// ConvSame2D is ConvSame1D over a height x width grid of positions (fairseq
// Decoder2d: Conv2d with padding K/2, then the SamePad trim of the last row
// and column for an even K). Position t of a sample is row t/width, column
// t%width, so x is (B*height*width, Cin) with rows in that order, w is
// PyTorch's Conv2d layout (Cout, Cin/groups, K, K), and
//
//	y[(s,r,c), o] = b[o] + sum_{ci<Cg, i<K, j<K} w[o, ci, i, j] * x[(s, r+i-K/2, c+j-K/2), g*Cg+ci].
func ConvSame2D(x, w, b *G.Node, batch, height, width, groups int) (*G.Node, error) {
	if w.Dims() != 4 || w.Shape()[2] != w.Shape()[3] {
		return nil, fmt.Errorf("convsame2d %s: want w (Cout, Cin/groups, K, K), got %v", w.Name(), w.Shape())
	}
	if batch < 1 || height < 1 || width < 1 || x.Dims() != 2 || x.Shape()[0] != batch*height*width {
		return nil, fmt.Errorf("convsame2d %s: x %v is not (batch*height*width, Cin) = (%d*%d*%d, Cin)", w.Name(), x.Shape(), batch, height, width)
	}
	k := w.Shape()[2]
	return convSameNode(x, w, b, convSame{b: batch, gh: height, gw: width, kh: k, kw: k, groups: groups, twoD: true})
}

func convSameNode(x, w, b *G.Node, k convSame) (*G.Node, error) {
	k.cin, k.cout = x.Shape()[1], w.Shape()[0]
	if k.groups < 1 || k.cin%k.groups != 0 || k.cout%k.groups != 0 {
		return nil, fmt.Errorf("%s: %d input and %d output channels must both be divisible by groups %d", k.name(), k.cin, k.cout, k.groups)
	}
	if w.Shape()[1] != k.cg() || k.kh < 1 || k.kw < 1 {
		return nil, fmt.Errorf("%s: w %s has shape %v, want (%d, %d, kernel...)", k.name(), w.Name(), w.Shape(), k.cout, k.cg())
	}
	if b.Dims() != 1 {
		return nil, fmt.Errorf("%s: want 1-D b, got %v", k.name(), b.Shape())
	}
	return apply(k, x, w, b)
}

// convSame is a grouped, stride-1 convolution of B grids of gh x gw
// positions with a kh x kw kernel, zero padding kh/2 (kw/2) before and the
// rest after, so the output grid is the input grid. 1-D is gh = kh = 1.
type convSame struct {
	b, gh, gw, cin, cout, kh, kw, groups int
	twoD                                 bool // w is (Cout, Cg, kh, kw), else (Cout, Cg, kw)
}

func (k convSame) cg() int   { return k.cin / k.groups }
func (k convSame) og() int   { return k.cout / k.groups }
func (k convSame) kc() int   { return k.kh * k.kw * k.cg() } // im2col columns of one group
func (k convSame) rows() int { return k.b * k.gh * k.gw }

func (k convSame) name() string {
	d := 1
	if k.twoD {
		d = 2
	}
	return fmt.Sprintf("ConvSame%dD(B=%d,%dx%d,%d->%d,K=%dx%d,g=%d)", d, k.b, k.gh, k.gw, k.cin, k.cout, k.kh, k.kw, k.groups)
}
func (k convSame) wShape() tensor.Shape {
	if !k.twoD {
		return tensor.Shape{k.cout, k.cg(), k.kw}
	}
	return tensor.Shape{k.cout, k.cg(), k.kh, k.kw}
}
func (k convSame) inShapes() []tensor.Shape {
	return []tensor.Shape{{k.rows(), k.cin}, k.wShape(), {k.cout}}
}
func (k convSame) outShape() tensor.Shape { return tensor.Shape{k.rows(), k.cout} }
func (k convSame) diff() []bool           { return []bool{true, true, true} }

func (k convSame) fwd(out any, in []any) {
	dispatch(out, func() { convSameFwd(k, as[float32](out), as[float32](in[0]), as[float32](in[1]), as[float32](in[2])) },
		func() { convSameFwd(k, as[float64](out), as[float64](in[0]), as[float64](in[1]), as[float64](in[2])) })
}

func (k convSame) bwd(gin, in []any, _, gout any) {
	dispatch(gout, func() {
		convSameBwd(k, as[float32](gin[0]), as[float32](gin[1]), as[float32](gin[2]), as[float32](in[0]), as[float32](in[1]), as[float32](gout))
	}, func() {
		convSameBwd(k, as[float64](gin[0]), as[float64](gin[1]), as[float64](gin[2]), as[float64](in[0]), as[float64](in[1]), as[float64](gout))
	})
}

// The kernel is im2col + one gemm per group, as Conv1D: an im2col row holds
// one output position's groups*KC inputs, group g's block being columns
// [g*KC, (g+1)*KC) in (i, j, c) order, so that a kernel tap's Cg channels
// are one copy from x. The weight is permuted once per call from PyTorch's
// (o, c, i, j) into that (KC, Cout) layout (wt[(i*kw+j)*Cg+c, o]); it is
// small next to the im2col matrix. The im2col matrix is built for a chunk
// of whole samples at a time (convChunk), so its scratch stays bounded at
// large batches; dW accumulates over chunks in a fixed order, so results
// do not depend on the number of workers.

// convChunkElems bounds the im2col scratch (elements) of one chunk; a
// variable so that tests can force several chunks at small sizes.
var convChunkElems = 1 << 20

// chunk is the number of samples per chunk: the im2col rows of a chunk,
// or in the channels-first path its padded input and output planes, hold
// at most about convChunkElems values.
func (k convSame) chunk() int {
	per := k.gh * k.gw * k.groups * k.kc()
	if k.channelsFirst() {
		_, ps, _ := k.cfGeom()
		per = (2*k.cin + k.cout) * ps
	}
	return max(1, min(k.b, convChunkElems/max(per, 1)))
}

// permuteW writes wt (KC, Cout) from w (Cout, Cg, kh, kw), or back when
// back is set (w from wt).
func permuteW[T Float](k convSame, wt, w []T, back bool) {
	cg, taps := k.cg(), k.kh*k.kw
	for o := 0; o < k.cout; o++ {
		for c := 0; c < cg; c++ {
			src := w[(o*cg+c)*taps : (o*cg+c+1)*taps]
			for tap := range src {
				if back {
					src[tap] = wt[(tap*cg+c)*k.cout+o]
				} else {
					wt[(tap*cg+c)*k.cout+o] = src[tap]
				}
			}
		}
	}
}

// im2colSame fills col (ns*gh*gw, groups*KC) for the ns samples starting at
// s0 of x.
func im2colSame[T Float](k convSame, col, x []T, s0, ns int) {
	cg, kc, ld, hw := k.cg(), k.kc(), k.groups*k.kc(), k.gh*k.gw
	ph, pw := k.kh/2, k.kw/2
	parallel(ns*hw, 64, func(_, lo, hi int) {
		for r := lo; r < hi; r++ {
			s, p := s0+r/hw, r%hw
			y, xx := p/k.gw, p%k.gw
			row := col[r*ld : (r+1)*ld]
			j0, j1 := max(0, pw-xx), min(k.kw, k.gw+pw-xx) // taps j in [j0, j1) read real columns
			for i := 0; i < k.kh; i++ {
				u := y + i - ph
				if u < 0 || u >= k.gh || j0 >= j1 {
					for g := 0; g < k.groups; g++ {
						clear(row[g*kc+i*k.kw*cg : g*kc+(i+1)*k.kw*cg])
					}
					continue
				}
				base := ((s*k.gh+u)*k.gw + xx - pw) * k.cin // x row of tap (i, 0)
				for g := 0; g < k.groups; g++ {
					blk := row[g*kc+i*k.kw*cg : g*kc+(i+1)*k.kw*cg]
					clear(blk[:j0*cg])
					if k.groups == 1 { // the taps' channels are consecutive in x
						copy(blk[j0*cg:j1*cg], x[base+j0*k.cin:base+j1*k.cin])
					} else {
						for j := j0; j < j1; j++ {
							src := base + j*k.cin + g*cg
							copy(blk[j*cg:(j+1)*cg], x[src:src+cg])
						}
					}
					clear(blk[j1*cg:])
				}
			}
		}
	})
}

// col2imSame writes dx for the ns samples starting at s0 from dcol, the
// adjoint of im2colSame. It gathers: each input position sums, in a fixed
// (i, j) order, the columns of the output positions that read it.
func col2imSame[T Float](k convSame, dx, dcol []T, s0, ns int) {
	cg, kc, ld, hw := k.cg(), k.kc(), k.groups*k.kc(), k.gh*k.gw
	ph, pw := k.kh/2, k.kw/2
	parallel(ns*hw, 64, func(_, lo, hi int) {
		for r := lo; r < hi; r++ {
			s, p := r/hw, r%hw
			u, v := p/k.gw, p%k.gw
			dst := dx[((s0+s)*hw+p)*k.cin : ((s0+s)*hw+p+1)*k.cin]
			clear(dst)
			for i := 0; i < k.kh; i++ {
				y := u + ph - i // the output row whose tap i reads row u
				if y < 0 || y >= k.gh {
					continue
				}
				for j := 0; j < k.kw; j++ {
					xx := v + pw - j
					if xx < 0 || xx >= k.gw {
						continue
					}
					src := dcol[(s*hw+y*k.gw+xx)*ld:]
					off := (i*k.kw + j) * cg
					for g := 0; g < k.groups; g++ {
						addTo(dst[g*cg:(g+1)*cg], src[g*kc+off:g*kc+off+cg])
					}
				}
			}
		}
	})
}

func convSameFwd[T Float](k convSame, y, x, w, b []T) {
	if k.channelsFirst() {
		convSameFwdCF(k, y, x, w, b)
		return
	}
	og, kc, ld, hw, ch := k.og(), k.kc(), k.groups*k.kc(), k.gh*k.gw, k.chunk()
	buf, put := convScratch[T](2*kc*k.cout + ch*hw*ld) // the backward's size: one size per shape keeps the pool from thrashing
	defer put()
	wt, col := buf[:kc*k.cout], buf[2*kc*k.cout:]
	permuteW(k, wt, w, false)
	for r := 0; r < k.rows(); r++ {
		copy(y[r*k.cout:(r+1)*k.cout], b)
	}
	for s0 := 0; s0 < k.b; s0 += ch {
		ns := min(ch, k.b-s0)
		n := ns * hw
		im2colSame(k, col, x, s0, ns)
		yc := y[s0*hw*k.cout:]
		for g := 0; g < k.groups; g++ { // (n, KC) @ (KC, Og)
			gemm(false, false, n, og, kc, 1, col[g*kc:], ld, wt[g*og:], k.cout, 1, yc[g*og:], k.cout)
		}
	}
}

func convSameBwd[T Float](k convSame, dx, dw, db, x, w, dy []T) {
	if k.channelsFirst() {
		convSameBwdCF(k, dx, dw, db, x, w, dy)
		return
	}
	og, kc, ld, hw, ch := k.og(), k.kc(), k.groups*k.kc(), k.gh*k.gw, k.chunk()
	buf, put := convScratch[T](2*kc*k.cout + ch*hw*ld)
	defer put()
	wt, dwt, col := buf[:kc*k.cout], buf[kc*k.cout:2*kc*k.cout], buf[2*kc*k.cout:]
	permuteW(k, wt, w, false)
	colSum(db, dy, k.rows(), k.cout)
	for s0 := 0; s0 < k.b; s0 += ch {
		ns := min(ch, k.b-s0)
		n := ns * hw
		dyc := dy[s0*hw*k.cout:]
		beta := T(1)
		if s0 == 0 {
			beta = 0
		}
		im2colSame(k, col, x, s0, ns)
		for g := 0; g < k.groups; g++ { // dWt_g += col_g^T @ dY_g: (KC, n) @ (n, Og)
			gemm(true, false, kc, og, n, 1, col[g*kc:], ld, dyc[g*og:], k.cout, beta, dwt[g*og:], k.cout)
		}
		for g := 0; g < k.groups; g++ { // dcol_g = dY_g @ Wt_g^T: (n, Og) @ (Og, KC), reusing col
			gemm(false, true, n, kc, og, 1, dyc[g*og:], k.cout, wt[g*og:], k.cout, 0, col[g*kc:], ld)
		}
		col2imSame(k, dx, col, s0, ns)
	}
	permuteW(k, dwt, dw, true)
}
