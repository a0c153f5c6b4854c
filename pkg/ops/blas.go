package ops

import (
	"github.com/d2v/d2v/internal/par"
	sgemm "github.com/d2v/d2v/pkg/gemm"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
)

func tr(t bool) blas.Transpose {
	if t {
		return blas.Trans
	}
	return blas.NoTrans
}

// gemm computes c = alpha * op(a) @ op(b) + beta * c with row-major,
// leading-dimension-strided operands (so heads are column blocks, no copies).
// float32 goes through pkg/gemm (AVX2/FMA assembly, gonum fallback);
// float64 (gradient checks) through gonum's blas64.
func gemm[T Float](ta, tb bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	switch av := any(a).(type) {
	case []float32:
		sgemm.Sgemm(ta, tb, m, n, k, float32(alpha), av, lda, any(b).([]float32), ldb, float32(beta), any(c).([]float32), ldc)
	case []float64:
		blas64.Implementation().Dgemm(tr(ta), tr(tb), m, n, k, float64(alpha), av, lda,
			any(b).([]float64), ldb, float64(beta), any(c).([]float64), ldc)
	}
}

// parallel is par.For: contiguous chunks of [0,n), one per worker.
func parallel(n, minChunk int, f func(w, lo, hi int)) { par.For(n, minChunk, f) }

func maxWorkers() int { return par.Workers() }
