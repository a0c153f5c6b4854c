//go:build amd64 && !purego

package gemm

import (
	"unsafe"

	"golang.org/x/sys/cpu"
)

// asmKernels lists the assembly micro-kernels this CPU can run, fastest
// last: AVX2+FMA 6x16, then AVX-512F 16x16 (cpu.X86.HasAVX512F also
// checks that the OS saves the zmm state).
func asmKernels() []*microKernel {
	var ks []*microKernel
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		ks = append(ks, &microKernel{name: "avx2", mr: 6, fn: kern6x16, packAT: packA6T})
		if cpu.X86.HasAVX512F {
			ks = append(ks, &microKernel{name: "avx512", mr: 16, fn: kern16x16, packAT: packA16T, packT: packT16Any})
		}
	}
	return ks
}

// kern6x16 is the AVX2+FMA micro-kernel (kernel_amd64.s); see kernGo for
// the contract.
//
//go:noescape
func kern6x16(k int, a *float32, rs, ps int, b *float32, bs int, c *float32, ldc int, alpha, beta float32, load int)

// kern16x16 is the AVX-512F micro-kernel (kernel512_amd64.s); see kernGo
// for the contract.
//
//go:noescape
func kern16x16(k int, a *float32, rs, ps int, b *float32, bs int, c *float32, ldc int, alpha, beta float32, load int)

// packA6T sets dst[p*6+r] = src[p*lda+r] for p < k, r < 6 (kernel_amd64.s).
//
//go:noescape
func packA6T(k int, src *float32, lda int, dst *float32)

// packA16T sets dst[p*16+r] = src[p*lda+r] for p < k, r < 16 (AVX-512F,
// kernel512_amd64.s).
//
//go:noescape
func packA16T(k int, src *float32, lda int, dst *float32)

// packB16 sets dst[p*16+j] = src[p*ldb+j] for p < k, j < 16 (kernel_amd64.s).
//
//go:noescape
func packB16(k int, src *float32, ldb int, dst *float32)

// packBT16 sets dst[p*16+j] = src[j*ldb+p] for p < k, j < 16, given
// idx[j] = j*ldb for j < 8 (kernel_amd64.s).
//
//go:noescape
func packBT16(k int, src *float32, idx *[8]int32, ldb int, dst *float32)

// packT16 sets dst[p*16+j] = src[j*ld+p] for p < 16*blocks, j < 16
// (AVX-512F, kernel512_amd64.s).
//
//go:noescape
func packT16(blocks int, src *float32, ld int, dst *float32)

// packT16Any sets dst[p*16+j] = src[j*ld+p] for p < k, j < 16: packT16 on
// whole 16-column blocks, then the last k%16 columns element by element.
func packT16Any(k int, src *float32, ld int, dst *float32) {
	if n := k / 16; n > 0 {
		packT16(n, src, ld, dst)
	}
	for p := k &^ 15; p < k; p++ {
		d := (*[nr]float32)(unsafe.Add(unsafe.Pointer(dst), 4*p*nr))
		for j := range nr {
			d[j] = *(*float32)(unsafe.Add(unsafe.Pointer(src), 4*(j*ld+p)))
		}
	}
}
