package gemm

import "unsafe"

// kernGo is the portable statement of the micro-kernel contract for an
// m x 16 tile (m <= maxMR): acc[r][j] = sum_{p<k} A(r,p)*B(p,j),
// accumulated in p order, with A(r,p) at a[r*rs+p*ps] and B(p,j) at
// b[p*bs+j] (strides in elements); then c[r*ldc+j] = alpha*acc +
// beta*c[r*ldc+j] when load != 0, or c[r*ldc+j] = alpha*acc (c not read)
// when load == 0. It is used for testing the driver on any architecture.
// Its rounding differs from the FMA kernels.
func kernGo(m, k int, a *float32, rs, ps int, b *float32, bs int, c *float32, ldc int, alpha, beta float32, load int) {
	var acc [maxMR][nr]float32
	for p := 0; p < k; p++ {
		brow := (*[nr]float32)(unsafe.Add(unsafe.Pointer(b), 4*p*bs))
		for r := 0; r < m; r++ {
			av := *(*float32)(unsafe.Add(unsafe.Pointer(a), 4*(r*rs+p*ps)))
			for j := range nr {
				acc[r][j] += av * brow[j]
			}
		}
	}
	for r := 0; r < m; r++ {
		crow := (*[nr]float32)(unsafe.Add(unsafe.Pointer(c), 4*r*ldc))
		for j := range nr {
			v := alpha * acc[r][j]
			if load != 0 {
				v += beta * crow[j]
			}
			crow[j] = v
		}
	}
}

// packATGo is the portable packA6T/packA16T: dst[p*m+r] = src[p*lda+r],
// p < k, r < m.
func packATGo(m, k int, src *float32, lda int, dst *float32) {
	s := unsafe.Slice(src, (k-1)*lda+m)
	d := unsafe.Slice(dst, k*m)
	for p := 0; p < k; p++ {
		copy(d[p*m:p*m+m], s[p*lda:])
	}
}

// packB16Go is the portable packB16: dst[p*16+j] = src[p*ldb+j], p < k, j < 16.
func packB16Go(k int, src *float32, ldb int, dst *float32) {
	for p := 0; p < k; p++ {
		s := (*[nr]float32)(unsafe.Add(unsafe.Pointer(src), 4*p*ldb))
		d := (*[nr]float32)(unsafe.Add(unsafe.Pointer(dst), 4*p*nr))
		*d = *s
	}
}

// packBT16Go is the portable packBT16: dst[p*16+j] = src[j*ldb+p], p < k, j < 16.
func packBT16Go(k int, src *float32, ldb int, dst *float32) {
	for p := 0; p < k; p++ {
		d := (*[nr]float32)(unsafe.Add(unsafe.Pointer(dst), 4*p*nr))
		for j := range nr {
			d[j] = *(*float32)(unsafe.Add(unsafe.Pointer(src), 4*(j*ldb+p)))
		}
	}
}
