//go:build !amd64 || purego

package gemm

// haveKernel is false off amd64 (or with -tags purego): Sgemm always uses
// the gonum fallback there.
var haveKernel = false

func kern6x16(k int, a *float32, rs, ps int, b *float32, bs int, c *float32, ldc int, alpha, beta float32, load int) {
	kernGo(k, a, rs, ps, b, bs, c, ldc, alpha, beta, load)
}
