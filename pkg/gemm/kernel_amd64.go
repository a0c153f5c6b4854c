//go:build amd64 && !purego

package gemm

import "golang.org/x/sys/cpu"

// haveKernel reports whether the AVX2+FMA micro-kernel can run here.
var haveKernel = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// kern6x16 is the AVX2+FMA micro-kernel (kernel_amd64.s); see kernGo for
// the contract.
//
//go:noescape
func kern6x16(k int, a *float32, rs, ps int, b *float32, bs int, c *float32, ldc int, alpha, beta float32, load int)
