package vmath

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestAdamWBits checks the assembly AdamW against the Go loop bit for bit
// (same float32 operations in the same order), on every tail length, and
// the Go loop against a float64 statement of the update.
func TestAdamWBits(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	c := AdamWConst{B1: 0.9, B2: 0.98, Eps: 1e-6, Step: 5e-4 / (1 - 0.9*0.9), Coef: 0.7, Shrink: 1 - 5e-4*0.01, BC2: float32(math.Sqrt(1 - 0.98*0.98))}
	for _, n := range []int{0, 1, 7, 8, 9, 15, 16, 17, 31, 64, 1000, 1003} {
		w, g, m, v := make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
		for i := range w {
			w[i] = rng.Float32()*2 - 1
			g[i] = (rng.Float32()*2 - 1) * float32(math.Pow(10, float64(rng.IntN(6)-4)))
			if i%5 > 0 { // some zero moments, as at step 1
				m[i] = (rng.Float32()*2 - 1) * 1e-2
				v[i] = rng.Float32() * 1e-4
			}
		}
		w2, m2, v2 := append([]float32(nil), w...), append([]float32(nil), m...), append([]float32(nil), v...)
		w0, m0, v0 := append([]float32(nil), w...), append([]float32(nil), m...), append([]float32(nil), v...)
		AdamW(w, g, m, v, c)
		adamwGo(w2, g, m2, v2, c)
		for i := range w {
			if math.Float32bits(w[i]) != math.Float32bits(w2[i]) || math.Float32bits(m[i]) != math.Float32bits(m2[i]) || math.Float32bits(v[i]) != math.Float32bits(v2[i]) {
				t.Fatalf("n=%d i=%d: asm (w %v m %v v %v) != go (w %v m %v v %v)", n, i, w[i], m[i], v[i], w2[i], m2[i], v2[i])
			}
			gj := float64(g[i]) * float64(c.Coef)
			mm := float64(c.B1)*float64(m0[i]) + (1-float64(c.B1))*gj
			vv := float64(c.B2)*float64(v0[i]) + (1-float64(c.B2))*gj*gj
			ww := float64(w0[i])*float64(c.Shrink) - float64(c.Step)*mm/(math.Sqrt(vv)/float64(c.BC2)+float64(c.Eps))
			if math.Abs(ww-float64(w[i])) > 1e-6*(1+math.Abs(ww)) {
				t.Fatalf("n=%d i=%d: w = %v, float64 says %v", n, i, w[i], ww)
			}
		}
	}
}

func BenchmarkAdamW(b *testing.B) {
	const n = 1 << 16
	w, g, m, v := make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
	for i := range g {
		g[i] = float32(i%7) * 1e-3
	}
	c := AdamWConst{B1: 0.9, B2: 0.98, Eps: 1e-6, Step: 1e-3, Coef: 1, Shrink: 1, BC2: 0.2}
	benchImpls(b, n*4*4, func() { AdamW(w, g, m, v, c) })
}
