package gemm

import "math"

// Blocking parameters. The micro-tile is mr x nr (mr per kernel). k is blocked by kc (a
// kc x nr micro-panel of packed B is 16 KiB and stays in L1 while the
// kernel walks down a block of row panels of a), m by blocks of at most
// aBlock/kc rows (that block of a, 96 KiB, stays in L2), and n by nc (the
// packed kc x nc block of B, 512 KiB, stays in L2).
const (
	nr     = 16
	kc     = 256
	nc     = 512
	aBlock = 96 * kc
)

// scratch holds one goroutine's packing buffers; pooled so steady-state
// calls allocate nothing.
type scratch struct {
	b    [kc * nc]float32    // packed block of op(b): panels of nr columns, each kc x nr row-major
	a    [aBlock]float32     // packed row panels of op(a): (r, p) at p*mr+r, zero padded
	tile [maxMR * nr]float32 // staging tile for partial output tiles
}

// freeScratch keeps released scratch buffers. Unlike a sync.Pool it
// survives garbage collections, so a training loop does not re-allocate
// its ~0.6 MiB buffers after every GC; it holds at most as many buffers
// as calls ever ran concurrently (capped by the channel size).
var freeScratch = make(chan *scratch, 256)

func getScratch() *scratch {
	select {
	case s := <-freeScratch:
		return s
	default:
		return new(scratch)
	}
}

func putScratch(s *scratch) {
	select {
	case freeScratch <- s:
	default:
	}
}

// serial computes c = alpha*op(a)@op(b) + beta*c on one goroutine with the
// blocked algorithm. It requires m, n, k >= 1 and validated operands.
//
// op(b) is packed per kc x nc block. Full mr-row panels of op(a) = a are
// read in place (the kernel takes row and k strides); panels of op(a) =
// a^T are packed (in assembly: mr floats per k); a trailing partial panel
// is packed zero padded. Partial output tiles go through s.tile so the
// kernel only ever sees full tiles; every element of c therefore gets
// exactly the same instruction sequence (same k order, same FMA rounding)
// whatever its tile position, which makes results independent of how the
// work is split.
func serial(kern *microKernel, ta, tb bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int, s *scratch) {
	for jc := 0; jc < n; jc += nc {
		ncur := min(nc, n-jc)
		for pc := 0; pc < k; pc += kc {
			kcur := min(kc, k-pc)
			bet, load := beta, 1
			if pc > 0 {
				bet = 1
			} else if beta == 0 {
				load = 0
			}
			packB(kern, tb, b, ldb, pc, jc, kcur, ncur, s.b[:])
			mr, kernel := kern.mr, kern.fn
			inPlace := !ta && !(kern.packT != nil && mr == nr && aliased(lda))
			mcb := aBlock / kcur / mr * mr
			for ic := 0; ic < m; ic += mcb {
				mcur := min(mcb, m-ic)
				// Pack what the kernel cannot read in place.
				for ir := ic; ir < ic+mcur; ir += mr {
					mrr := min(mr, m-ir)
					off := (ir - ic) * kcur
					if mrr < mr {
						packA(ta, a, lda, ir, pc, mr, mrr, kcur, s.a[off:])
					} else if ta {
						d := s.a[off : off+kcur*mr]
						_ = a[(pc+kcur-1)*lda+ir+mr-1]
						kern.packAT(kcur, &a[pc*lda+ir], lda, &d[0])
					} else if !inPlace {
						d := s.a[off : off+kcur*mr]
						_ = a[(ir+mr-1)*lda+pc+kcur-1]
						kern.packT(kcur, &a[ir*lda+pc], lda, &d[0])
					}
				}
				for jr := 0; jr < ncur; jr += nr {
					nrr := min(nr, ncur-jr)
					bp := &s.b[jr*kcur]
					for ir := ic; ir < ic+mcur; ir += mr {
						mrr := min(mr, m-ir)
						var ap *float32
						var rs, ps int
						if mrr < mr || !inPlace {
							ap, rs, ps = &s.a[(ir-ic)*kcur], 1, mr
						} else {
							ap, rs, ps = &a[ir*lda+pc], lda, 1
						}
						ci := ir*ldc + jc + jr
						if mrr == mr && nrr == nr {
							kernel(kcur, ap, rs, ps, bp, nr, &c[ci], ldc, alpha, bet, load)
							continue
						}
						t := &s.tile
						if load != 0 {
							for r := 0; r < mrr; r++ {
								copy(t[r*nr:r*nr+nrr], c[ci+r*ldc:])
							}
						}
						kernel(kcur, ap, rs, ps, bp, nr, &t[0], nr, alpha, bet, load)
						for r := 0; r < mrr; r++ {
							copy(c[ci+r*ldc:ci+r*ldc+nrr], t[r*nr:])
						}
					}
				}
			}
		}
	}
}

// aliased reports whether rows ld floats apart fall in the same L1 set
// (ld*4 a multiple of 4 KiB on an 8-way 32 KiB L1): sixteen such rows
// read in place evict each other, so the 16-row kernel packs them first.
// (Six rows fit in the eight ways; 2 KiB strides, two sets of eight, were
// measured fine.)
func aliased(ld int) bool { return ld%1024 == 0 }

// packB packs op(b)[pc:pc+kcur, jc:jc+ncur] into dst as ceil(ncur/nr)
// panels; panel q (columns jc+q*nr...) starts at dst[q*nr*kcur] and holds
// element (p, j) at p*nr+j, zero padded past ncur.
func packB(kern *microKernel, tb bool, b []float32, ldb, pc, jc, kcur, ncur int, dst []float32) {
	if !tb {
		// op(b)(p, j) = b[p*ldb+j]: rows are contiguous.
		for q := 0; q < ncur; q += nr {
			w := min(nr, ncur-q)
			d := dst[q*kcur : q*kcur+kcur*nr]
			src := b[pc*ldb+jc+q:]
			if w == nr {
				_ = src[(kcur-1)*ldb+nr-1]
				packB16(kcur, &src[0], ldb, &d[0])
				continue
			}
			for p := 0; p < kcur; p++ {
				row := d[p*nr : p*nr+nr]
				copy(row, src[p*ldb:p*ldb+w])
				clear(row[w:])
			}
		}
		return
	}
	// op(b)(p, j) = b[j*ldb+p]: column j of op(b) is row j of b.
	var idx [8]int32
	if ldb <= math.MaxInt32/8 {
		for j := range idx {
			idx[j] = int32(j * ldb)
		}
	}
	for q := 0; q < ncur; q += nr {
		w := min(nr, ncur-q)
		d := dst[q*kcur : q*kcur+kcur*nr]
		if w == nr && kern.packT != nil {
			_ = b[(jc+q+nr-1)*ldb+pc+kcur-1]
			kern.packT(kcur, &b[(jc+q)*ldb+pc], ldb, &d[0])
			continue
		}
		if w == nr && ldb <= math.MaxInt32/8 {
			_ = b[(jc+q+nr-1)*ldb+pc+kcur-1]
			packBT16(kcur, &b[(jc+q)*ldb+pc], &idx, ldb, &d[0])
			continue
		}
		for j := 0; j < w; j++ {
			src := b[(jc+q+j)*ldb+pc:]
			src = src[:kcur]
			col := d[j:]
			for p, v := range src {
				col[p*nr] = v
			}
		}
		if w < nr {
			for p := 0; p < kcur; p++ {
				clear(d[p*nr+w : p*nr+nr])
			}
		}
	}
}

// packA packs the partial row panel op(a)[ir:ir+mrr, pc:pc+kcur] (mrr <
// mr) into dst with element (r, p) at p*mr+r, zero padded to mr rows.
func packA(ta bool, a []float32, lda, ir, pc, mr, mrr, kcur int, dst []float32) {
	d := dst[:kcur*mr]
	clear(d)
	if ta {
		// op(a)(i, p) = a[p*lda+i]
		for p := 0; p < kcur; p++ {
			copy(d[p*mr:p*mr+mrr], a[(pc+p)*lda+ir:])
		}
		return
	}
	for r := 0; r < mrr; r++ {
		src := a[(ir+r)*lda+pc:]
		src = src[:kcur]
		for p, v := range src {
			d[p*mr+r] = v
		}
	}
}
