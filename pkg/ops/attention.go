package ops

import (
	"fmt"
	"math"

	"github.com/d2v/d2v/pkg/vmath"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Attention is fused multi-head scaled dot-product attention without a mask.
// q is (B*Tq, D), k and v (B*Tk, D), with D = H*dh; head j is the column
// block [j*dh, (j+1)*dh). For each sample b and head j:
// out_bj = softmax(q_bj k_bj^T / sqrt(dh)) v_bj, written back into the same
// column block of out (B*Tq, D). Tq < Tk computes only some query rows
// (the student's last block at the masked positions). The softmax is
// row-max stabilised; the (Tq, Tk) probabilities are recomputed in the
// backward pass, not stored.
func Attention(q, k, v *G.Node, batch, heads int) (*G.Node, error) {
	s, sk := q.Shape(), k.Shape()
	if s.Dims() != 2 || s[0]%batch != 0 || s[1]%heads != 0 {
		return nil, fmt.Errorf("attention: q shape %v does not split into batch %d and %d heads", s, batch, heads)
	}
	if sk.Dims() != 2 || sk[0]%batch != 0 || sk[1] != s[1] || !v.Shape().Eq(sk) {
		return nil, fmt.Errorf("attention: k %v and v %v do not match q %v and batch %d", sk, v.Shape(), s, batch)
	}
	return apply(attention{b: batch, t: s[0] / batch, tk: sk[0] / batch, d: s[1], h: heads, scratch: &scratch{}}, q, k, v)
}

type attention struct {
	b, t, tk, d, h int      // t: query rows per sample; tk: key/value rows
	scratch        *scratch // (Tq, Tk) score blocks per worker, reused from run to run
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
	if k.tk != k.t {
		return fmt.Sprintf("Attention(B=%d,Tq=%d,Tk=%d,D=%d,H=%d)", k.b, k.t, k.tk, k.d, k.h)
	}
	return fmt.Sprintf("Attention(B=%d,T=%d,D=%d,H=%d)", k.b, k.t, k.d, k.h)
}
func (k attention) inShapes() []tensor.Shape {
	s := tensor.Shape{k.b * k.tk, k.d}
	return []tensor.Shape{{k.b * k.t, k.d}, s, s}
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
	dh, tq, tk := k.d/k.h, k.t, k.tk
	scale := T(1 / math.Sqrt(float64(dh)))
	scratch := scratchOf[T](k.scratch, maxWorkers()*tq*tk)
	parallel(k.b*k.h, 1, func(w, lo, hi int) {
		p := scratch[w*tq*tk : (w+1)*tq*tk]
		for bh := lo; bh < hi; bh++ {
			col := (bh % k.h) * dh
			oq, ok := (bh/k.h)*tq*k.d+col, (bh/k.h)*tk*k.d+col
			gemm(false, true, tq, tk, dh, scale, q[oq:], k.d, kk[ok:], k.d, 0, p, tk) // (Tq,dh)@(dh,Tk)
			softmaxRows(p, tk)
			gemm(false, false, tq, dh, tk, 1, p, tk, v[ok:], k.d, 0, out[oq:], k.d) // (Tq,Tk)@(Tk,dh)
		}
	})
}

func attnBwd[T Float](k attention, dq, dk, dv, q, kk, v, dout []T) {
	dh, tq, tk := k.d/k.h, k.t, k.tk
	scale := T(1 / math.Sqrt(float64(dh)))
	tt := tq * tk
	scratch := scratchOf[T](k.scratch, 2*maxWorkers()*tt)
	parallel(k.b*k.h, 1, func(w, lo, hi int) {
		p, dp := scratch[2*w*tt:(2*w+1)*tt], scratch[(2*w+1)*tt:(2*w+2)*tt]
		for bh := lo; bh < hi; bh++ {
			col := (bh % k.h) * dh
			oq, ok := (bh/k.h)*tq*k.d+col, (bh/k.h)*tk*k.d+col
			gemm(false, true, tq, tk, dh, scale, q[oq:], k.d, kk[ok:], k.d, 0, p, tk)
			softmaxRows(p, tk)
			gemm(false, true, tq, tk, dh, 1, dout[oq:], k.d, v[ok:], k.d, 0, dp, tk) // dP = dO V^T
			for r := 0; r < tq; r++ {                                                // dS = P*(dP - rowsum(dP*P))
				pr, dr := p[r*tk:(r+1)*tk], dp[r*tk:(r+1)*tk]
				var s float64
				for j := range pr {
					s += float64(pr[j] * dr[j])
				}
				for j := range pr {
					dr[j] = pr[j] * (dr[j] - T(s))
				}
			}
			gemm(false, false, tq, dh, tk, scale, dp, tk, kk[ok:], k.d, 0, dq[oq:], k.d) // dQ = s dS K
			gemm(true, false, tk, dh, tq, scale, dp, tk, q[oq:], k.d, 0, dk[ok:], k.d)   // dK = s dS^T Q
			gemm(true, false, tk, dh, tq, 1, p, tk, dout[oq:], k.d, 0, dv[ok:], k.d)     // dV = P^T dO
		}
	})
}
