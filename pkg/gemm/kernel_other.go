//go:build !amd64 || purego

package gemm

// asmKernels is empty off amd64 (or with -tags purego): Sgemm always uses
// the gonum fallback there.
func asmKernels() []*microKernel { return nil }

func packB16(k int, src *float32, ldb int, dst *float32) { packB16Go(k, src, ldb, dst) }

func packBT16(k int, src *float32, idx *[8]int32, ldb int, dst *float32) {
	packBT16Go(k, src, ldb, dst)
}
