package gemm

import (
	"fmt"
	"testing"
	"time"

	"gonum.org/v1/gonum/blas/gonum"
)

type benchShape struct {
	name          string
	ta, tb        bool
	m, n, k       int
	lda, ldb, ldc int
}

// benchShapes are the products a training step runs: token-major linear
// layers (3136 tokens, widths 64 and 256) in forward (NN), input-gradient
// (NT) and weight-gradient (TN) form, and per-head attention blocks (49
// tokens, head dim 16, heads as column blocks of a 64-wide matrix).
var benchShapes = func() []benchShape {
	var s []benchShape
	for _, d := range [][2]int{{64, 64}, {64, 256}, {256, 64}} {
		in, out := d[0], d[1]
		const t = 3136
		// y = x @ W: (t x in) @ (in x out)
		s = append(s, benchShape{fmt.Sprintf("NN_%dx%dx%d", t, out, in), false, false, t, out, in, in, out, out})
		// dx = dy @ W^T: (t x out) @ (in x out)^T
		s = append(s, benchShape{fmt.Sprintf("NT_%dx%dx%d", t, in, out), false, true, t, in, out, out, out, in})
		// dW = x^T @ dy: (t x in)^T @ (t x out)
		s = append(s, benchShape{fmt.Sprintf("TN_%dx%dx%d", in, out, t), true, false, in, out, t, in, out, out})
	}
	// scores = q @ k^T per head: (49 x 16) @ (49 x 16)^T, rows 64 apart.
	s = append(s, benchShape{"attnQK_49x49x16", false, true, 49, 49, 16, 64, 64, 49})
	// out = p @ v per head: (49 x 49) @ (49 x 16), v rows 64 apart.
	s = append(s, benchShape{"attnPV_49x16x49", false, false, 49, 16, 49, 49, 64, 64})
	// gradients of the attention blocks.
	s = append(s, benchShape{"attnTN_49x16x49", true, false, 49, 16, 49, 49, 64, 64})
	s = append(s, benchShape{"attnNN_49x16x49", false, false, 49, 16, 49, 49, 64, 64})
	// Configs S and M of the performance issue (configs/bench-{s,m}.yaml):
	// 512 tokens (B=8, T=64), widths D and F = 4D, in the same three forms,
	// and attention per (sample, head): T=64, head dim D/4, rows D apart.
	for _, d := range []int{128, 256} {
		const t = 512
		for _, io := range [][2]int{{d, d}, {d, 4 * d}, {4 * d, d}} {
			in, out := io[0], io[1]
			s = append(s, benchShape{fmt.Sprintf("NN_%dx%dx%d", t, out, in), false, false, t, out, in, in, out, out})
			s = append(s, benchShape{fmt.Sprintf("NT_%dx%dx%d", t, in, out), false, true, t, in, out, out, out, in})
			s = append(s, benchShape{fmt.Sprintf("TN_%dx%dx%d", in, out, t), true, false, in, out, t, in, out, out})
		}
		dh := d / 4
		s = append(s, benchShape{fmt.Sprintf("attnQK_64x64x%d", dh), false, true, 64, 64, dh, d, d, 64})
		s = append(s, benchShape{fmt.Sprintf("attnPV_64x%dx64", dh), false, false, 64, dh, 64, 64, d, d})
		s = append(s, benchShape{fmt.Sprintf("attnTN_64x%dx64", dh), true, false, 64, dh, 64, 64, d, d})
	}
	// tiny products, to place the small-size threshold.
	for _, d := range []int{2, 4, 8, 16} {
		s = append(s, benchShape{fmt.Sprintf("tiny_%dx%dx%d", d, d, d), false, false, d, d, d, d, d, d})
	}
	s = append(s, benchShape{"vec_1x64x64", false, false, 1, 64, 64, 64, 64, 64})
	s = append(s, benchShape{"vecT_64x1x64", false, true, 64, 1, 64, 64, 64, 1})
	return s
}()

// operands allocates a, b and c for sh (zero).
func (sh benchShape) operands() (a, b, c []float32) {
	ar, br := sh.m, sh.k
	if sh.ta {
		ar = sh.k
	}
	if sh.tb {
		br = sh.n
	}
	return make([]float32, ar*sh.lda), make([]float32, br*sh.ldb), make([]float32, sh.m*sh.ldc)
}

func BenchmarkSgemm(b *testing.B) {
	for _, sh := range benchShapes {
		a, bb, c := sh.operands()
		for i := range a {
			a[i] = float32(i%7) * 0.1
		}
		for i := range bb {
			bb[i] = float32(i%5) * 0.1
		}
		flops := 2 * float64(sh.m) * float64(sh.n) * float64(sh.k)
		for _, impl := range append(Kernels(), "gonum") {
			b.Run(sh.name+"/"+impl, func(b *testing.B) {
				if impl != "gonum" {
					prev, err := SetKernel(impl)
					if err != nil {
						b.Fatal(err)
					}
					defer SetKernel(prev)
				}
				f := Sgemm
				if impl == "gonum" {
					f = func(ta, tb bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
						gonum.Implementation{}.Sgemm(tr(ta), tr(tb), m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
					}
				}
				f(sh.ta, sh.tb, sh.m, sh.n, sh.k, 1, a, sh.lda, bb, sh.ldb, 0, c, sh.ldc)
				b.ReportAllocs()
				b.ResetTimer()
				start := time.Now()
				for i := 0; i < b.N; i++ {
					f(sh.ta, sh.tb, sh.m, sh.n, sh.k, 1, a, sh.lda, bb, sh.ldb, 0, c, sh.ldc)
				}
				b.ReportMetric(flops*float64(b.N)/time.Since(start).Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}
