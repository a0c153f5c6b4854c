package gemm

import "testing"

// BenchmarkKernel measures each micro-kernel alone on L1-resident packed
// panels (the ceiling for the blocked driver).
func BenchmarkKernel(b *testing.B) {
	ks := asmKernels()
	if len(ks) == 0 {
		b.Skip("no kernel")
	}
	const k = 256
	for _, kern := range ks {
		b.Run(kern.name, func(b *testing.B) {
			mr := kern.mr
			a := make([]float32, k*mr)
			bp := make([]float32, k*nr)
			c := make([]float32, mr*nr)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				kern.fn(k, &a[0], 1, mr, &bp[0], nr, &c[0], nr, 1, 1, 1)
			}
			b.ReportMetric(2*float64(mr*nr*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
