package vmath

import "fmt"

// ColSum sets dst[j] = src[j] + src[ld+j] + ... + src[(rows-1)*ld+j] for
// j < len(dst): column sums of a row-major (rows, ld) matrix, e.g. a bias
// gradient. The rows are added in order from +0, as the plain loop does,
// so every path gives the same bits. It panics if src is too short or
// len(dst) > ld.
func ColSum(dst, src []float32, rows, ld int) {
	cols := len(dst)
	if cols > ld || rows < 0 || (rows > 0 && len(src) < (rows-1)*ld+cols) {
		panic(fmt.Sprintf("vmath: ColSum: %d columns of %d rows with ld %d from %d elements", cols, rows, ld, len(src)))
	}
	head := 0
	if Accelerated() && rows > 0 && cols >= 32 {
		head = cols &^ 31
		colsumAVX(&dst[0], &src[0], rows, ld, head/32)
	}
	colsumGo(dst[head:], src[min(head, len(src)):], rows, ld)
}

// colsumGo is ColSum's portable statement (and the assembly's tail).
func colsumGo(dst, src []float32, rows, ld int) {
	clear(dst)
	for r := 0; r < rows; r++ {
		row := src[r*ld : r*ld+len(dst)]
		for j, v := range row {
			dst[j] += v
		}
	}
}
