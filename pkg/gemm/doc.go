// Package gemm is a float32 matrix multiply for row-major matrices with
// leading dimensions. On amd64 CPUs with AVX2 and FMA it uses a blocked
// (BLIS-style) algorithm around an assembly micro-kernel (16x16 with
// AVX-512F, else 6x16 with AVX2+FMA; chosen at run time, see Kernels) and
// splits large products over GOMAXPROCS goroutines; elsewhere it falls
// back to gonum's pure-Go Sgemm.
//
// It may import internal/par, gonum and golang.org/x/sys/cpu; nothing of
// the training code.
package gemm
