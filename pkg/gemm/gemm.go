package gemm

import (
	"sync"
	"sync/atomic"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"

	"github.com/d2v/d2v/internal/par"
)

// parallelFlops is the 2*m*n*k above which a product is split over
// several goroutines; below it the call runs on the caller's goroutine.
const parallelFlops = 1 << 20

// tiny reports the shapes for which gonum's plain loops beat packing:
// matrix-vector products (m == 1 or n == 1, where a 6x16 tile would be
// mostly padding) and products of fewer than 512 multiply-adds.
func tiny(m, n, k int) bool { return m == 1 || n == 1 || m*n*k < 512 }

// smallToGonum routes tiny shapes to gonum (false only in tests, to run
// the blocked driver on them too).
var smallToGonum = true

var forceFallback atomic.Bool

// SetFallback forces (true) or un-forces (false) the gonum fallback even
// where the assembly kernel is available, and returns the previous
// setting. Meant for tests and comparisons.
func SetFallback(on bool) (prev bool) { return forceFallback.Swap(on) }

// Accelerated reports whether Sgemm currently uses an assembly kernel
// (one available and the fallback not forced).
func Accelerated() bool { return active.Load() != nil && !forceFallback.Load() }

// maxWorkers, when > 0, caps the number of goroutines one call uses (tests).
var maxWorkers atomic.Int32

func tr(t bool) blas.Transpose {
	if t {
		return blas.Trans
	}
	return blas.NoTrans
}

// Sgemm computes c = alpha*op(a)@op(b) + beta*c for row-major matrices with
// leading dimensions (the same contract as gonum's blas.Float32.Sgemm with
// row-major storage: op(a) is m x k, op(b) is k x n, c is m x n; ta/tb
// transpose a and b). beta == 0 must ignore (overwrite) whatever c holds,
// including NaN.
//
// It panics, like gonum, on negative sizes, too-small leading dimensions or
// too-short slices. Elements of c outside the m x n matrix (padding when
// ldc > n) are never written. Results do not depend on GOMAXPROCS.
func Sgemm(ta, tb bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	kern := active.Load()
	if kern == nil || forceFallback.Load() || (smallToGonum && tiny(m, n, k)) {
		gonum.Implementation{}.Sgemm(tr(ta), tr(tb), m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	check(ta, tb, m, n, k, a, lda, b, ldb, c, ldc)
	if m == 0 || n == 0 {
		return
	}
	if k == 0 || alpha == 0 {
		scale(m, n, beta, c, ldc)
		return
	}

	workers := par.Workers() // GOMAXPROCS, shared between a split batch's parts
	if w := int(maxWorkers.Load()); w > 0 && w < workers {
		workers = w
	}
	if workers < 2 || 2*float64(m)*float64(n)*float64(k) < parallelFlops {
		s := getScratch()
		serial(kern, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, s)
		putScratch(s)
		return
	}
	split(kern, workers, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

func check(ta, tb bool, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	if m < 0 {
		panic("gemm: m < 0")
	}
	if n < 0 {
		panic("gemm: n < 0")
	}
	if k < 0 {
		panic("gemm: k < 0")
	}
	if ta {
		if lda < max(1, m) {
			panic("gemm: bad lda")
		}
	} else if lda < max(1, k) {
		panic("gemm: bad lda")
	}
	if tb {
		if ldb < max(1, k) {
			panic("gemm: bad ldb")
		}
	} else if ldb < max(1, n) {
		panic("gemm: bad ldb")
	}
	if ldc < max(1, n) {
		panic("gemm: bad ldc")
	}
	if m == 0 || n == 0 {
		return
	}
	if ta {
		if len(a) < (k-1)*lda+m {
			panic("gemm: short a")
		}
	} else if len(a) < (m-1)*lda+k {
		panic("gemm: short a")
	}
	if tb {
		if len(b) < (n-1)*ldb+k {
			panic("gemm: short b")
		}
	} else if len(b) < (k-1)*ldb+n {
		panic("gemm: short b")
	}
	if len(c) < (m-1)*ldc+n {
		panic("gemm: short c")
	}
}

// scale sets c = beta*c (c = 0 when beta == 0, whatever c held).
func scale(m, n int, beta float32, c []float32, ldc int) {
	for i := 0; i < m; i++ {
		row := c[i*ldc : i*ldc+n]
		switch beta {
		case 0:
			clear(row)
		case 1:
		default:
			for j := range row {
				row[j] *= beta
			}
		}
	}
}

// task is one worker's share of a split product.
type task struct {
	kern         *microKernel
	ta, tb       bool
	m, n, k      int
	alpha, beta  float32
	a, b, c      []float32
	lda, ldb, ld int
	wg           *sync.WaitGroup
}

func (t *task) run() {
	s := getScratch()
	serial(t.kern, t.ta, t.tb, t.m, t.n, t.k, t.alpha, t.a, t.lda, t.b, t.ldb, t.beta, t.c, t.ld, s)
	putScratch(s)
}

var (
	poolMu  sync.Mutex
	started int
	tasks   = make(chan task, 64)
	wgPool  = sync.Pool{New: func() any { return new(sync.WaitGroup) }}
)

// ensureWorkers makes sure at least n persistent worker goroutines exist.
// Persistent workers (rather than a goroutine per call) keep steady-state
// calls allocation-free.
func ensureWorkers(n int) {
	poolMu.Lock()
	for started < n {
		started++
		go func() {
			for t := range tasks {
				t.run()
				t.wg.Done()
			}
		}()
	}
	poolMu.Unlock()
}

// split divides c into up to `workers` blocks of whole micro-tiles and
// runs them concurrently (one on the calling goroutine). Splitting by rows
// makes every block pack all of op(b); by columns, every block reads all
// of op(a), which costs packing only where a is packed (transposed, or
// rows aliasing in L1). split takes the way that repacks less, given at
// least one tile per block. Each element of c is computed by exactly one
// block with the same k order, so the result is independent of the split.
func split(kern *microKernel, workers int, ta, tb bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	mr := kern.mr
	mt, nt := (m+mr-1)/mr, (n+nr-1)/nr
	aPacked := ta || (kern.packT != nil && mr == nr && aliased(lda))
	rowsDup, colsDup := k*n, 0 // elements each extra block packs again
	if aPacked {
		colsDup = m * k
	}
	byRows := mt >= nt
	if mt >= workers && nt >= workers {
		byRows = rowsDup < colsDup
	}
	tiles := nt
	if byRows {
		tiles = mt
	}
	workers = min(workers, tiles)
	per := (tiles + workers - 1) / workers
	workers = (tiles + per - 1) / per
	if workers < 2 {
		s := getScratch()
		serial(kern, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, s)
		putScratch(s)
		return
	}
	ensureWorkers(workers - 1)
	wg := wgPool.Get().(*sync.WaitGroup)
	wg.Add(workers - 1)
	var first task
	for w := 0; w < workers; w++ {
		t := task{kern: kern, ta: ta, tb: tb, m: m, n: n, k: k, alpha: alpha, beta: beta, a: a, b: b, c: c, lda: lda, ldb: ldb, ld: ldc, wg: wg}
		if byRows {
			lo := w * per * mr
			hi := min(m, lo+per*mr)
			t.m = hi - lo
			t.c = c[lo*ldc:]
			if ta {
				t.a = a[lo:]
			} else {
				t.a = a[lo*lda:]
			}
		} else {
			lo := w * per * nr
			hi := min(n, lo+per*nr)
			t.n = hi - lo
			t.c = c[lo:]
			if tb {
				t.b = b[lo*ldb:]
			} else {
				t.b = b[lo:]
			}
		}
		if w == 0 {
			first = t
			continue
		}
		tasks <- t
	}
	first.run()
	wg.Wait()
	wgPool.Put(wg)
}
