package ops

import (
	"fmt"
	"math"

	"github.com/d2v/d2v/pkg/vmath"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Attention is fused multi-head scaled dot-product attention without a mask.
// q, k, v are (B*T, D) with D = H*dh; head j is the column block
// [j*dh, (j+1)*dh). For each sample b and head j:
// out_bj = softmax(q_bj k_bj^T / sqrt(dh)) v_bj, written back into the same
// column block of out (B*T, D). The softmax is row-max stabilised; the
// (T, T) probabilities are recomputed in the backward pass, not stored.
func Attention(q, k, v *G.Node, batch, heads int) (*G.Node, error) {
	s := q.Shape()
	if s.Dims() != 2 || s[0]%batch != 0 || s[1]%heads != 0 {
		return nil, fmt.Errorf("attention: q shape %v does not split into batch %d and %d heads", s, batch, heads)
	}
	return apply(attention{b: batch, t: s[0] / batch, d: s[1], h: heads, scratch: &scratch{}}, q, k, v)
}

type attention struct {
	b, t, d, h int
	scratch    *scratch // (T, T) score blocks per worker, reused from run to run
}

// scratch is working memory a kernel keeps between runs (a node's forward
// and backward run one at a time, so they can share it).
type scratch struct{ data any }

// scratchOf returns n elements of s's memory, reallocated only when it is
// too short or of the other dtype (a nil s allocates every call).
func scratchOf[T Float](s *scratch, n int) []T {
	if s == nil {
		return make([]T, n)
	}
	if v, ok := s.data.([]T); ok && len(v) >= n {
		return v[:n]
	}
	v := make([]T, n)
	s.data = v
	return v
}

func (k attention) name() string {
	return fmt.Sprintf("Attention(B=%d,T=%d,D=%d,H=%d)", k.b, k.t, k.d, k.h)
}
func (k attention) inShapes() []tensor.Shape {
	s := tensor.Shape{k.b * k.t, k.d}
	return []tensor.Shape{s, s, s}
}
func (k attention) outShape() tensor.Shape { return tensor.Shape{k.b * k.t, k.d} }
func (k attention) diff() []bool           { return []bool{true, true, true} }

func (k attention) fwd(out any, in []any) {
	dispatch(out, func() { attnFwd(k, as[float32](out), as[float32](in[0]), as[float32](in[1]), as[float32](in[2])) },
		func() { attnFwd(k, as[float64](out), as[float64](in[0]), as[float64](in[1]), as[float64](in[2])) })
}

func (k attention) bwd(gin, in []any, _, gout any) {
	dispatch(gout, func() {
		attnBwd(k, as[float32](gin[0]), as[float32](gin[1]), as[float32](gin[2]),
			as[float32](in[0]), as[float32](in[1]), as[float32](in[2]), as[float32](gout))
	}, func() {
		attnBwd(k, as[float64](gin[0]), as[float64](gin[1]), as[float64](gin[2]),
			as[float64](in[0]), as[float64](in[1]), as[float64](in[2]), as[float64](gout))
	})
}

func softmaxRows[T Float](p []T, n int) {
	if p32, ok := any(p).([]float32); ok {
		vmath.SoftmaxRows(p32, n)
		return
	}
	for r := 0; r < len(p)/n; r++ {
		row := p[r*n : (r+1)*n]
		mx := row[0]
		for _, v := range row[1:] {
			mx = max(mx, v)
		}
		var s float64
		for j, v := range row {
			e := math.Exp(float64(v - mx))
			row[j] = T(e)
			s += e
		}
		inv := 1 / s
		for j := range row {
			row[j] = T(float64(row[j]) * inv)
		}
	}
}

func attnFwd[T Float](k attention, out, q, kk, v []T) {
	dh := k.d / k.h
	scale := T(1 / math.Sqrt(float64(dh)))
	scratch := scratchOf[T](k.scratch, maxWorkers()*k.t*k.t)
	parallel(k.b*k.h, 1, func(w, lo, hi int) {
		p := scratch[w*k.t*k.t : (w+1)*k.t*k.t]
		for bh := lo; bh < hi; bh++ {
			off := (bh/k.h)*k.t*k.d + (bh%k.h)*dh
			gemm(false, true, k.t, k.t, dh, scale, q[off:], k.d, kk[off:], k.d, 0, p, k.t) // (T,dh)@(dh,T)
			softmaxRows(p, k.t)
			gemm(false, false, k.t, dh, k.t, 1, p, k.t, v[off:], k.d, 0, out[off:], k.d) // (T,T)@(T,dh)
		}
	})
}

func attnBwd[T Float](k attention, dq, dk, dv, q, kk, v, dout []T) {
	dh := k.d / k.h
	scale := T(1 / math.Sqrt(float64(dh)))
	tt := k.t * k.t
	scratch := scratchOf[T](k.scratch, 2*maxWorkers()*tt)
	parallel(k.b*k.h, 1, func(w, lo, hi int) {
		p, dp := scratch[2*w*tt:(2*w+1)*tt], scratch[(2*w+1)*tt:(2*w+2)*tt]
		for bh := lo; bh < hi; bh++ {
			off := (bh/k.h)*k.t*k.d + (bh%k.h)*dh
			gemm(false, true, k.t, k.t, dh, scale, q[off:], k.d, kk[off:], k.d, 0, p, k.t)
			softmaxRows(p, k.t)
			gemm(false, true, k.t, k.t, dh, 1, dout[off:], k.d, v[off:], k.d, 0, dp, k.t) // dP = dO V^T
			for r := 0; r < k.t; r++ {                                                    // dS = P*(dP - rowsum(dP*P))
				pr, dr := p[r*k.t:(r+1)*k.t], dp[r*k.t:(r+1)*k.t]
				var s float64
				for j := range pr {
					s += float64(pr[j] * dr[j])
				}
				for j := range pr {
					dr[j] = pr[j] * (dr[j] - T(s))
				}
			}
			gemm(false, false, k.t, dh, k.t, scale, dp, k.t, kk[off:], k.d, 0, dq[off:], k.d) // dQ = s dS K
			gemm(true, false, k.t, dh, k.t, scale, dp, k.t, q[off:], k.d, 0, dk[off:], k.d)   // dK = s dS^T Q
			gemm(true, false, k.t, dh, k.t, 1, p, k.t, dout[off:], k.d, 0, dv[off:], k.d)     // dV = P^T dO
		}
	})
}
