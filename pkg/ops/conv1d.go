package ops

import (
	"fmt"
	"sync"

	"github.com/d2v/d2v/pkg/vmath"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Conv1D is a batched, grouped 1-D convolution (cross-correlation, as in
// PyTorch's Conv1d) over time-major activations:
//
//	x (B*L, Cin)          sample s's L time steps are rows s*L .. s*L+L-1
//	w (K*Cin/groups, Cout) see the layout below
//	b (Cout)              always present; pass a zero, untrained bias for a
//	                      bias-free layer
//	y (B*Lout, Cout)      Lout = (L + 2*pad - K)/stride + 1
//
// with zero padding of pad steps on both sides of every sample. Channels
// are split into groups of Cg = Cin/groups inputs and Og = Cout/groups
// outputs; group g reads input columns [g*Cg, (g+1)*Cg) and writes output
// columns [g*Og, (g+1)*Og):
//
//	y[s*Lout+t, o] = b[o] + sum_{k<K, c<Cg} x[s*L + t*stride+k-pad, g*Cg+c] * w[k*Cg+c, o]
//
// for g = o/Og, terms with t*stride+k-pad outside [0, L) being zero.
//
// Weight layout (the checkpoint layout): "in, out" like Linear, the in axis
// being (k, c) flattened with k major, so w[k*Cg+c, o] is PyTorch's
// Conv1d weight[o, c, k]. Each output column only has Cg input channels
// (those of its own group), so grouped weights are not block-diagonal:
// K*Cg rows, Cout columns.
//
// K is inferred as w.Shape()[0] / (Cin/groups).
func Conv1D(x, w, b *G.Node, batch, stride, pad, groups int) (*G.Node, error) {
	return conv1D(x, w, b, batch, stride, pad, groups, false)
}

// Conv1DInput is Conv1D on a graph input (the waveform): no gradient flows
// to x, so the backward pass skips its GEMM and col2im.
func Conv1DInput(x, w, b *G.Node, batch, stride, pad, groups int) (*G.Node, error) {
	return conv1D(x, w, b, batch, stride, pad, groups, true)
}

func conv1D(x, w, b *G.Node, batch, stride, pad, groups int, noDX bool) (*G.Node, error) {
	if x.Dims() != 2 || w.Dims() != 2 || b.Dims() != 1 {
		return nil, fmt.Errorf("conv1d %s: want 2-D x, 2-D w and 1-D b, got %v, %v and %v", w.Name(), x.Shape(), w.Shape(), b.Shape())
	}
	if batch < 1 || stride < 1 || pad < 0 || groups < 1 {
		return nil, fmt.Errorf("conv1d %s: want batch >= 1, stride >= 1, pad >= 0 and groups >= 1, got %d, %d, %d and %d", w.Name(), batch, stride, pad, groups)
	}
	rows, cin := x.Shape()[0], x.Shape()[1]
	wr, cout := w.Shape()[0], w.Shape()[1]
	if rows%batch != 0 {
		return nil, fmt.Errorf("conv1d %s: x has %d rows, not a multiple of batch %d", w.Name(), rows, batch)
	}
	if cin%groups != 0 || cout%groups != 0 {
		return nil, fmt.Errorf("conv1d %s: %d input and %d output channels must both be divisible by groups %d", w.Name(), cin, cout, groups)
	}
	cg := cin / groups
	if wr == 0 || wr%cg != 0 {
		return nil, fmt.Errorf("conv1d %s: w has shape %v, want (K*Cin/groups, Cout) = (K*%d, %d) for some K >= 1", w.Name(), w.Shape(), cg, cout)
	}
	k := conv1d{b: batch, l: rows / batch, cin: cin, cout: cout, k: wr / cg, stride: stride, pad: pad, groups: groups, noDX: noDX}
	if k.l+2*pad < k.k {
		return nil, fmt.Errorf("conv1d %s: padded length %d+2*%d is shorter than the kernel %d", w.Name(), k.l, pad, k.k)
	}
	return apply(k, x, w, b)
}

type conv1d struct {
	b, l, cin, cout, k, stride, pad, groups int
	noDX                                    bool // no gradient for x (a graph input)
}

func (k conv1d) lout() int { return (k.l+2*k.pad-k.k)/k.stride + 1 }
func (k conv1d) cg() int   { return k.cin / k.groups }
func (k conv1d) og() int   { return k.cout / k.groups }
func (k conv1d) kc() int   { return k.k * k.cg() }

func (k conv1d) name() string {
	in := ""
	if k.noDX {
		in = ",input"
	}
	return fmt.Sprintf("Conv1D(B=%d,L=%d,%d->%d,K=%d,s=%d,p=%d,g=%d%s)", k.b, k.l, k.cin, k.cout, k.k, k.stride, k.pad, k.groups, in)
}
func (k conv1d) inShapes() []tensor.Shape {
	return []tensor.Shape{{k.b * k.l, k.cin}, {k.kc(), k.cout}, {k.cout}}
}
func (k conv1d) outShape() tensor.Shape { return tensor.Shape{k.b * k.lout(), k.cout} }
func (k conv1d) diff() []bool           { return []bool{!k.noDX, true, true} }

func (k conv1d) fwd(out any, in []any) {
	dispatch(out, func() { convFwd(k, as[float32](out), as[float32](in[0]), as[float32](in[1]), as[float32](in[2])) },
		func() { convFwd(k, as[float64](out), as[float64](in[0]), as[float64](in[1]), as[float64](in[2])) })
}

func (k conv1d) bwd(gin, in []any, _, gout any) {
	dispatch(gout, func() {
		convBwd(k, as[float32](gin[0]), as[float32](gin[1]), as[float32](gin[2]), as[float32](in[0]), as[float32](in[1]), as[float32](gout))
	}, func() {
		convBwd(k, as[float64](gin[0]), as[float64](gin[1]), as[float64](gin[2]), as[float64](in[0]), as[float64](in[1]), as[float64](gout))
	})
}

// The im2col matrix holds every (sample, output step) as one row of
// groups*K*Cg = K*Cin columns; group g's block is columns [g*KC, (g+1)*KC)
// with KC = K*Cg, laid out (k, c) like w's rows, so each group is one
// strided gemm against w's column block. Building it is a parallel copy;
// the products go through gemm, which splits large ones itself and whose
// result does not depend on the number of workers, so the whole op is
// deterministic.

// im2col fills col (B*Lout, K*Cin) from x. With one group a row is K
// consecutive rows of x (zeros where they fall in the padding): one copy.
func im2col[T Float](k conv1d, col, x []T) {
	lout, cg, kc, ld := k.lout(), k.cg(), k.kc(), k.k*k.cin
	parallel(k.b*lout, 64, func(_, lo, hi int) {
		for r := lo; r < hi; r++ {
			s, t := r/lout, r%lout
			row := col[r*ld : (r+1)*ld]
			u0 := t*k.stride - k.pad                // input step read by kk = 0
			k0, k1 := max(0, -u0), min(k.k, k.l-u0) // kk in [k0, k1) read real steps
			if k.groups == 1 {
				clear(row[:k0*k.cin])
				copy(row[k0*k.cin:k1*k.cin], x[(s*k.l+u0+k0)*k.cin:(s*k.l+u0+k1)*k.cin])
				clear(row[k1*k.cin:])
				continue
			}
			for g := 0; g < k.groups; g++ {
				blk := row[g*kc : (g+1)*kc]
				clear(blk[:k0*cg])
				for kk := k0; kk < k1; kk++ {
					src := (s*k.l+u0+kk)*k.cin + g*cg
					copy(blk[kk*cg:(kk+1)*cg], x[src:src+cg])
				}
				clear(blk[k1*cg:])
			}
		}
	})
}

// col2im writes dx = the adjoint of im2col applied to dcol. It gathers
// rather than scatters: each input step sums, in increasing output step
// t, the (t, kk = u+pad-t*stride) columns of the output steps that read it,
// so rows are independent and the order is fixed.
func col2im[T Float](k conv1d, dx, dcol []T) {
	lout, cg, kc, ld := k.lout(), k.cg(), k.kc(), k.k*k.cin
	parallel(k.b*k.l, 64, func(_, lo, hi int) {
		for i := lo; i < hi; i++ {
			s, u := i/k.l, i%k.l
			row := dx[i*k.cin : (i+1)*k.cin]
			clear(row)
			p := u + k.pad // = t*stride + kk
			// kk = p - t*stride in [0, K)  <=>  t in (p-K)/stride .. p/stride
			t0 := 0
			if p >= k.k {
				t0 = (p-k.k)/k.stride + 1
			}
			for t := t0; t <= min(p/k.stride, lout-1); t++ {
				kk := p - t*k.stride
				src := dcol[(s*lout+t)*ld:]
				for g := 0; g < k.groups; g++ {
					c := src[g*kc+kk*cg : g*kc+(kk+1)*cg]
					d := row[g*cg : g*cg+len(c)]
					addTo(d, c)
				}
			}
		}
	})
}

func convFwd[T Float](k conv1d, y, x, w, b []T) {
	n, og, kc, ld := k.b*k.lout(), k.og(), k.kc(), k.k*k.cin
	col, put := convScratch[T](n * ld)
	defer put()
	im2col(k, col, x)
	for r := 0; r < n; r++ {
		copy(y[r*k.cout:(r+1)*k.cout], b)
	}
	for g := 0; g < k.groups; g++ { // (N, KC) @ (KC, Og)
		gemm(false, false, n, og, kc, 1, col[g*kc:], ld, w[g*og:], k.cout, 1, y[g*og:], k.cout)
	}
}

func convBwd[T Float](k conv1d, dx, dw, db, x, w, dy []T) {
	n, og, kc, ld := k.b*k.lout(), k.og(), k.kc(), k.k*k.cin
	col, put := convScratch[T](n * ld)
	defer put()
	im2col(k, col, x)
	for g := 0; g < k.groups; g++ { // dW_g = col_g^T @ dY_g: (KC, N) @ (N, Og)
		gemm(true, false, kc, og, n, 1, col[g*kc:], ld, dy[g*og:], k.cout, 0, dw[g*og:], k.cout)
	}
	colSum(db, dy, n, k.cout)
	if dx == nil { // a graph input: no gradient wanted
		return
	}
	for g := 0; g < k.groups; g++ { // dcol_g = dY_g @ W_g^T: (N, Og) @ (Og, KC), reusing col
		gemm(false, true, n, kc, og, 1, dy[g*og:], k.cout, w[g*og:], k.cout, 0, col[g*kc:], ld)
	}
	col2im(k, dx, col)
}

// addTo sets d[j] += c[j] (vmath.AXPBY with unit weights for float32: 1*x
// is exact, so the same bits as the loop).
func addTo[T Float](d, c []T) {
	if d32, ok := any(d).([]float32); ok && len(d) >= 8 {
		vmath.AXPBY(d32, d32, any(c).([]float32), 1, 1)
		return
	}
	for j := range c {
		d[j] += c[j]
	}
}

// colSum sets db to the column sums of the (n, cols) rows of dy, in row
// order (vmath.ColSum for float32, columns split over the cores).
func colSum[T Float](db, dy []T, n, cols int) {
	if db32, ok := any(db).([]float32); ok {
		dy32 := any(dy).([]float32)
		parallel(cols, 64, func(_, lo, hi int) { vmath.ColSum(db32[lo:hi], dy32[lo:], n, cols) })
		return
	}
	clear(db)
	for r := 0; r < n; r++ {
		row := dy[r*cols : (r+1)*cols]
		for j, v := range row {
			db[j] += v
		}
	}
}

var convPool32, convPool64 sync.Pool

// convScratch returns a slice of n elements (contents undefined) and the
// function that gives it back, so steady-state steps do not allocate.
func convScratch[T Float](n int) ([]T, func()) {
	pool := &convPool64
	var zero T
	if _, ok := any(zero).(float32); ok {
		pool = &convPool32
	}
	p, _ := pool.Get().(*[]T)
	if p == nil || cap(*p) < n {
		s := make([]T, n)
		p = &s
	}
	s := (*p)[:n]
	return s, func() { pool.Put(p) }
}
