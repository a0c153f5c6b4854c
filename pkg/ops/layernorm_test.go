package ops

import (
	"math/rand/v2"
	"testing"
)

// TestLayerNormFloat32 runs the float32 op (pkg/vmath row kernels) against
// the float64 path on the same inputs, forward and backward, with rows split
// over workers and a width with an 8-lane tail.
func TestLayerNormFloat32(t *testing.T) {
	k := layerNorm{n: 300, d: 71, eps: 1e-5}
	r := rand.New(rand.NewPCG(3, 4))
	in64 := make([][]float64, 3)
	in32 := make([]any, 3)
	for i, s := range k.inShapes() {
		in64[i] = randn(r, s.TotalSize(), 2)
		v := make([]float32, len(in64[i]))
		for j := range v {
			v[j] = float32(in64[i][j] + 1) // an offset mean
			in64[i][j] = float64(v[j])
		}
		in32[i] = v
	}
	y64 := make([]float64, k.n*k.d)
	lnFwd(k, y64, in64[0], in64[1], in64[2])
	y32 := make([]float32, k.n*k.d)
	k.fwd(y32, in32)
	if e := relErr(widen(y32), y64); e > 2e-6 {
		t.Errorf("float32 forward: rel err %.3g", e)
	}
	dy := randn(r, k.n*k.d, 1)
	dy32 := make([]float32, len(dy))
	for j := range dy {
		dy32[j] = float32(dy[j])
		dy[j] = float64(dy32[j])
	}
	g64 := [][]float64{make([]float64, k.n*k.d), make([]float64, k.d), make([]float64, k.d)}
	lnBwd(k, g64[0], g64[1], g64[2], in64[0], in64[1], dy)
	g32 := []any{make([]float32, k.n*k.d), make([]float32, k.d), make([]float32, k.d)}
	k.bwd(g32, in32, y32, dy32)
	for i, name := range []string{"dx", "dg", "db"} {
		if e := relErr(widen(g32[i].([]float32)), g64[i]); e > 2e-5 {
			t.Errorf("float32 %s: rel err %.3g", name, e)
		}
	}
}

func widen(v []float32) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}
