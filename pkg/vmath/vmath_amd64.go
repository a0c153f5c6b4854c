//go:build amd64 && !purego

package vmath

import "golang.org/x/sys/cpu"

// haveAsm reports whether the AVX2+FMA kernels can run here.
var haveAsm = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// The assembly kernels (vmath_amd64.s); n >= 1 elements, tails of n%8
// handled with masked loads and stores. See the exported functions for
// the contracts.

//go:noescape
func expAVX(dst, src *float32, n int)

//go:noescape
func softmaxAVX(x *float32, rows, n int)

//go:noescape
func geluAVX(y, x *float32, n int)

//go:noescape
func geluGradAVX(dx, x, dy *float32, n int)

//go:noescape
func adamwAVX(w, grad, m, v *float32, n int, c *AdamWConst)

//go:noescape
func colsumAVX(dst, src *float32, rows, ld, blocks int)

//go:noescape
func sumSquaresAVX(acc *[16]float64, x *float32, blocks int)

//go:noescape
func axpbyAVX(dst, x, y *float32, blocks int, a, b float32)

//go:noescape
func tapSumAVX(y, x *float32, off *int, w *float32, terms, blocks int)

//go:noescape
func tapSum2AVX(y0, y1, x *float32, off *int, w0, w1 *float32, terms, blocks int)

//go:noescape
func dotShiftsAVX(acc *[8][8]float32, d, x *float32, off *[8]int, blocks int)

//go:noescape
func transpose8AVX(dst *float32, ldd int, src *float32, lds int, blocks int)
