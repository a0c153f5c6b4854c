package vmath

import (
	"fmt"
	"math"
)

// AdamWConst holds one AdamW update's per-tensor constants, in float32 as
// the update computes (see AdamW).
type AdamWConst struct {
	B1, B2, Eps float32 // moment decays and the denominator's epsilon
	Step        float32 // lr / (1 - b1^t)
	Coef        float32 // gradient scale (the clipping coefficient)
	Shrink      float32 // 1 - lr*wd for decayed tensors, else 1
	BC2         float32 // sqrt(1 - b2^t)
}

// AdamW applies torch's AdamW update element by element, in place:
//
//	g' = g*Coef
//	m = B1*m + (1-B1)*g'
//	v = B2*v + (1-B2)*g'*g'
//	w = w*Shrink - Step*m / (sqrt(v)/BC2 + Eps)
//
// with every operation a float32 operation in that order (no fused
// multiply-adds), so the assembly and Go kernels give the same bits. It
// panics if the lengths differ.
func AdamW(w, g, m, v []float32, c AdamWConst) {
	n := len(w)
	if len(g) != n || len(m) != n || len(v) != n {
		panic(fmt.Sprintf("vmath: AdamW: lengths w %d g %d m %d v %d differ", n, len(g), len(m), len(v)))
	}
	head := 0
	if Accelerated() && n >= 8 {
		head = n &^ 7
		adamwAVX(&w[0], &g[0], &m[0], &v[0], head, &c)
	}
	adamwGo(w[head:], g[head:], m[head:], v[head:], c)
}

// adamwGo is AdamW's portable statement (and the tail of the assembly).
func adamwGo(w, g, m, v []float32, c AdamWConst) {
	c1, c2 := 1-c.B1, 1-c.B2
	for j := range w {
		gj := g[j] * c.Coef
		m[j] = c.B1*m[j] + c1*gj
		v[j] = c.B2*v[j] + c2*gj*gj
		w[j] = w[j]*c.Shrink - c.Step*m[j]/(float32(math.Sqrt(float64(v[j])))/c.BC2+c.Eps)
	}
}
