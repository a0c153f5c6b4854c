//go:build !amd64 || purego

package gemm

// haveKernel is false off amd64 (or with -tags purego): Sgemm always uses
// the gonum fallback there.
var haveKernel = false

func kern6x16(k int, a *float32, rs, ps int, b *float32, bs int, c *float32, ldc int, alpha, beta float32, load int) {
	kernGo(k, a, rs, ps, b, bs, c, ldc, alpha, beta, load)
}

func packA6T(k int, src *float32, lda int, dst *float32) { packA6TGo(k, src, lda, dst) }

func packB16(k int, src *float32, ldb int, dst *float32) { packB16Go(k, src, ldb, dst) }

func packBT16(k int, src *float32, idx *[8]int32, ldb int, dst *float32) {
	packBT16Go(k, src, ldb, dst)
}
