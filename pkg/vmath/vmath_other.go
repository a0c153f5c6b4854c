//go:build !amd64 || purego

package vmath

import "unsafe"

// haveAsm is false off amd64 (or with -tags purego): the exported
// functions always use the pure-Go kernels there. The stubs below exist
// only so that the package compiles; they are never called.
var haveAsm = false

func expAVX(dst, src *float32, n int) {
	expGo(unsafe.Slice(dst, n), unsafe.Slice(src, n))
}

func softmaxAVX(x *float32, rows, n int) { softmaxGo(unsafe.Slice(x, rows*n), n) }

func geluAVX(y, x *float32, n int) { geluGo(unsafe.Slice(y, n), unsafe.Slice(x, n)) }

func geluGradAVX(dx, x, dy *float32, n int) {
	geluGradGo(unsafe.Slice(dx, n), unsafe.Slice(x, n), unsafe.Slice(dy, n))
}

func adamwAVX(w, grad, m, v *float32, n int, c *AdamWConst) {
	adamwGo(unsafe.Slice(w, n), unsafe.Slice(grad, n), unsafe.Slice(m, n), unsafe.Slice(v, n), *c)
}

func colsumAVX(dst, src *float32, rows, ld, blocks int) {
	n := blocks * 32
	colsumGo(unsafe.Slice(dst, n), unsafe.Slice(src, (rows-1)*ld+n), rows, ld)
}

func sumSquaresAVX(acc *[16]float64, x *float32, blocks int) {
	sumSquaresGo(acc, unsafe.Slice(x, blocks*16))
}

func axpbyAVX(dst, x, y *float32, blocks int, a, b float32) {
	axpbyGo(unsafe.Slice(dst, blocks*8), unsafe.Slice(x, blocks*8), unsafe.Slice(y, blocks*8), a, b)
}

func tapSumAVX(y, x *float32, off *int, w *float32, terms, blocks int) {
	offs := unsafe.Slice(off, terms)
	n := blocks * 32
	hi := 0
	for _, o := range offs {
		hi = max(hi, o+n)
	}
	tapSumGo(unsafe.Slice(y, n), unsafe.Slice(x, hi), offs, unsafe.Slice(w, terms))
}

func dotShiftsAVX(acc *[8][8]float32, d, x *float32, off *[8]int, blocks int) {
	n := blocks * 8
	hi := 0
	for _, o := range off {
		hi = max(hi, o+n)
	}
	ds, xs := unsafe.Slice(d, n), unsafe.Slice(x, hi)
	for k, o := range off {
		dotLanes8(&acc[k], ds, xs[o:])
	}
}

func transpose8AVX(dst *float32, ldd int, src *float32, lds int, blocks int) {
	cols := blocks * 8
	transposeGo(unsafe.Slice(dst, (cols-1)*ldd+8), ldd, unsafe.Slice(src, 7*lds+cols), lds, 0, 8, 0, cols)
}

func tapSum2AVX(y0, y1, x *float32, off *int, w0, w1 *float32, terms, blocks int) {
	tapSumAVX(y0, x, off, w0, terms, blocks)
	tapSumAVX(y1, x, off, w1, terms, blocks)
}
