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

// packA6T sets dst[p*6+r] = src[p*lda+r] for p < k, r < 6 (kernel_amd64.s).
//
//go:noescape
func packA6T(k int, src *float32, lda int, dst *float32)

// packB16 sets dst[p*16+j] = src[p*ldb+j] for p < k, j < 16 (kernel_amd64.s).
//
//go:noescape
func packB16(k int, src *float32, ldb int, dst *float32)

// packBT16 sets dst[p*16+j] = src[j*ldb+p] for p < k, j < 16, given
// idx[j] = j*ldb for j < 8 (kernel_amd64.s).
//
//go:noescape
func packBT16(k int, src *float32, idx *[8]int32, ldb int, dst *float32)
