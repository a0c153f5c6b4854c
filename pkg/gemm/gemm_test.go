package gemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"
)

const sentinel = float32(-12345.5)

type problem struct {
	ta, tb        bool
	m, n, k       int
	lda, ldb, ldc int
	alpha, beta   float32
	a, b, c       []float32
}

// newProblem builds random operands with leading dimensions padded by
// padA/padB/padC. Padding in a and b holds NaN (it must never be read into
// a result); padding and the tail of c hold a sentinel (must stay intact);
// with beta == 0 the matrix part of c is NaN (must be ignored).
func newProblem(rng *rand.Rand, ta, tb bool, m, n, k, padA, padB, padC int, alpha, beta float32) *problem {
	p := &problem{ta: ta, tb: tb, m: m, n: n, k: k, alpha: alpha, beta: beta}
	ar, ac := m, k
	if ta {
		ar, ac = k, m
	}
	br, bc := k, n
	if tb {
		br, bc = n, k
	}
	p.lda, p.ldb, p.ldc = ac+padA, bc+padB, n+padC
	nan := float32(math.NaN())
	fill := func(rows, cols, ld int) []float32 {
		s := make([]float32, rows*ld+3)
		for i := range s {
			s[i] = nan
		}
		for i := 0; i < rows; i++ {
			for j := 0; j < cols; j++ {
				s[i*ld+j] = rng.Float32()*2 - 1
			}
		}
		return s
	}
	p.a = fill(ar, ac, p.lda)
	p.b = fill(br, bc, p.ldb)
	p.c = make([]float32, m*p.ldc+5)
	for i := range p.c {
		p.c[i] = sentinel
	}
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			if beta == 0 {
				p.c[i*p.ldc+j] = nan
			} else {
				p.c[i*p.ldc+j] = rng.Float32()*2 - 1
			}
		}
	}
	return p
}

func (p *problem) opA(i, l int) float32 {
	if p.ta {
		return p.a[l*p.lda+i]
	}
	return p.a[i*p.lda+l]
}

func (p *problem) opB(l, j int) float32 {
	if p.tb {
		return p.b[j*p.ldb+l]
	}
	return p.b[l*p.ldb+j]
}

// run calls Sgemm on a copy of c and returns it.
func (p *problem) run() []float32 {
	c := append([]float32(nil), p.c...)
	Sgemm(p.ta, p.tb, p.m, p.n, p.k, p.alpha, p.a, p.lda, p.b, p.ldb, p.beta, c, p.ldc)
	return c
}

// verify compares got against a float64 triple loop.
func (p *problem) verify(t testing.TB, got []float32) {
	t.Helper()
	bad := 0
	for i := 0; i < p.m; i++ {
		for j := 0; j < p.n; j++ {
			var s, mag float64
			for l := 0; l < p.k; l++ {
				v := float64(p.opA(i, l)) * float64(p.opB(l, j))
				s += v
				mag += math.Abs(v)
			}
			want := float64(p.alpha) * s
			mag *= math.Abs(float64(p.alpha))
			if p.beta != 0 {
				cv := float64(p.c[i*p.ldc+j])
				want += float64(p.beta) * cv
				mag += math.Abs(float64(p.beta) * cv)
			}
			g := float64(got[i*p.ldc+j])
			tol := 1e-6*float64(p.k+2)*mag + 1e-30
			if !(math.Abs(g-want) <= tol) {
				if bad < 5 {
					t.Errorf("%s: c[%d,%d] = %v, want %v (tol %g)", p, i, j, g, want, tol)
				}
				bad++
			}
		}
	}
	for idx, v := range got {
		i, j := idx/p.ldc, idx%p.ldc
		if i < p.m && j < p.n {
			continue
		}
		if v != sentinel {
			t.Fatalf("%s: c[%d] outside the matrix changed to %v", p, idx, v)
		}
	}
	if bad > 0 {
		t.Fatalf("%s: %d bad elements", p, bad)
	}
}

func (p *problem) String() string {
	return fmt.Sprintf("ta=%v tb=%v m=%d n=%d k=%d lda=%d ldb=%d ldc=%d alpha=%v beta=%v",
		p.ta, p.tb, p.m, p.n, p.k, p.lda, p.ldb, p.ldc, p.alpha, p.beta)
}

var (
	alphas = []float32{1, -0.5}
	betas  = []float32{0, 1, 0.3}
	small  = []int{1, 2, 3, 5, 7, 15, 16, 17, 31, 33}
	large  = []int{49, 64, 65, 100, 257}
)

// exercise runs the correctness suite against whatever path Sgemm takes.
func exercise(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	idx := 0
	try := func(ta, tb bool, m, n, k int) {
		idx++
		alpha := alphas[idx%len(alphas)]
		beta := betas[(idx/2)%len(betas)]
		pad := idx % 4 // 0..3; 0 keeps the minimum leading dimension
		p := newProblem(rng, ta, tb, m, n, k, pad, (pad+1)%4, (pad+2)%4, alpha, beta)
		p.verify(t, p.run())
	}
	for _, ta := range []bool{false, true} {
		for _, tb := range []bool{false, true} {
			for _, m := range small {
				for _, n := range small {
					for _, k := range small {
						try(ta, tb, m, n, k)
					}
				}
			}
			all := append(append([]int{}, small...), large...)
			for _, x := range large {
				for r := 0; r < 6; r++ {
					y, z := all[rng.IntN(len(all))], all[rng.IntN(len(all))]
					try(ta, tb, x, y, z)
					try(ta, tb, y, x, z)
					try(ta, tb, y, z, x)
				}
			}
			for r := 0; r < 20; r++ {
				try(ta, tb, 1+rng.IntN(120), 1+rng.IntN(120), 1+rng.IntN(300))
			}
			// Several k blocks, several n blocks, above the parallel threshold.
			try(ta, tb, 70, 530, 600)
			// Leading dimensions of 1024 (rows alias in L1: the 16-row
			// kernel packs A instead of reading it in place).
			for _, beta := range betas {
				p := newProblem(rng, ta, tb, 37, 40, 1000, 24, 24, 0, 1, beta)
				p.verify(t, p.run())
			}
			// Every alpha/beta combination on an edge-heavy shape.
			for _, alpha := range alphas {
				for _, beta := range betas {
					p := newProblem(rng, ta, tb, 49, 33, 17, 2, 3, 1, alpha, beta)
					p.verify(t, p.run())
				}
			}
		}
	}
}

// useKernel makes k the active kernel until the test ends.
func useKernel(t testing.TB, k *microKernel) {
	prev := active.Load()
	active.Store(k)
	t.Cleanup(func() { active.Store(prev) })
}

// eachAsmKernel runs f as a subtest once per assembly kernel this CPU
// has (AVX2 and AVX-512 on an AVX-512 machine), each made active in turn,
// so every kernel is tested, not only the one Sgemm would pick.
func eachAsmKernel(t *testing.T, f func(t *testing.T)) {
	ks := asmKernels()
	if len(ks) == 0 {
		t.Skip("no assembly kernel on this machine; TestSgemmFallback and TestDriverGoKernels cover the rest")
	}
	for _, k := range ks {
		t.Run(k.name, func(t *testing.T) {
			useKernel(t, k)
			f(t)
		})
	}
}

func TestSgemm(t *testing.T) { eachAsmKernel(t, exercise) }

// TestSgemmKernelTiny runs the assembly path on the tiny shapes too (they
// normally go to gonum), so its edge handling is covered for m or n = 1.
func TestSgemmKernelTiny(t *testing.T) {
	eachAsmKernel(t, func(t *testing.T) {
		smallToGonum = false
		defer func() { smallToGonum = true }()
		exercise(t)
	})
}

func TestSgemmFallback(t *testing.T) {
	prev := SetFallback(true)
	defer SetFallback(prev)
	if Accelerated() {
		t.Fatal("Accelerated() with fallback forced")
	}
	if Kernel() != "gonum" {
		t.Fatalf("Kernel() = %q with fallback forced", Kernel())
	}
	exercise(t)
}

// TestDriverGoKernels runs the blocked driver around the portable kernels
// of both tile shapes (6x16 and 16x16), so the driver logic is tested on
// any architecture.
func TestDriverGoKernels(t *testing.T) {
	for _, k := range goKernels {
		t.Run(k.name, func(t *testing.T) {
			useKernel(t, k)
			smallToGonum = false
			defer func() { smallToGonum = true }()
			exercise(t)
		})
	}
}

// TestKernelsDirect calls each assembly kernel on one tile, with A read in
// place (row stride) and packed (k stride), both store modes and odd k,
// against the portable kernel; and checks the packers against their Go
// statements.
func TestKernelsDirect(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	rnd := func(n int) []float32 {
		s := make([]float32, n)
		for i := range s {
			s[i] = rng.Float32()*2 - 1
		}
		return s
	}
	eachAsmKernel(t, func(t *testing.T) {
		k := active.Load()
		for _, kk := range []int{1, 3, 4, 5, 16, 17, 33, 256} {
			for _, packed := range []bool{false, true} {
				for _, load := range []int{0, 1} {
					rs, ps := kk+3, 1 // rows of a row-major A with padding
					if packed {
						rs, ps = 1, k.mr
					}
					a := rnd(k.mr*kk + 3*k.mr + 3)
					b := rnd(kk * (nr + 2))
					c := rnd(k.mr * (nr + 1))
					want := append([]float32(nil), c...)
					k.fn(kk, &a[0], rs, ps, &b[0], nr+2, &c[0], nr+1, 0.75, 0.5, load)
					kernGo(k.mr, kk, &a[0], rs, ps, &b[0], nr+2, &want[0], nr+1, 0.75, 0.5, load)
					for i := range c {
						if d := math.Abs(float64(c[i] - want[i])); d > 1e-5*float64(kk+1) {
							t.Fatalf("k=%d packed=%v load=%v: c[%d] = %v, want %v", kk, packed, load, i, c[i], want[i])
						}
					}
				}
			}
			lda := k.mr + 5
			src := rnd((kk-1)*lda + k.mr)
			got, want := make([]float32, kk*k.mr), make([]float32, kk*k.mr)
			k.packAT(kk, &src[0], lda, &got[0])
			packATGo(k.mr, kk, &src[0], lda, &want[0])
			if !slices.Equal(got, want) {
				t.Fatalf("packAT k=%d: got %v, want %v", kk, got, want)
			}
			if k.packT == nil {
				continue
			}
			for _, ld := range []int{kk, kk + 7, 1024} {
				src := rnd(15*ld + kk)
				got, want := make([]float32, kk*nr), make([]float32, kk*nr)
				k.packT(kk, &src[0], ld, &got[0])
				packBT16Go(kk, &src[0], ld, &want[0])
				if !slices.Equal(got, want) {
					t.Fatalf("packT k=%d ld=%d: got %v, want %v", kk, ld, got, want)
				}
			}
		}
	})
}

// TestKernelsBitIdentical checks that all assembly kernels give
// bit-identical products (same FMA sequence per element), so switching
// kernels does not change training results.
func TestKernelsBitIdentical(t *testing.T) {
	ks := asmKernels()
	if len(ks) < 2 {
		t.Skip("fewer than two assembly kernels on this machine")
	}
	rng := rand.New(rand.NewPCG(7, 8))
	for _, sh := range [][3]int{{512, 128, 128}, {128, 512, 512}, {64, 64, 32}, {49, 33, 300}} {
		for _, ta := range []bool{false, true} {
			for _, tb := range []bool{false, true} {
				p := newProblem(rng, ta, tb, sh[0], sh[1], sh[2], 1, 0, 2, 1, 0.5)
				var first []float32
				for _, k := range ks {
					active.Store(k)
					got := p.run()
					if first == nil {
						first = got
						continue
					}
					for i := range got {
						if math.Float32bits(got[i]) != math.Float32bits(first[i]) {
							t.Fatalf("%s: %s and %s differ at %d: %v vs %v", p, ks[0].name, k.name, i, first[i], got[i])
						}
					}
				}
			}
		}
	}
	active.Store(ks[len(ks)-1])
}

// TestWorkersBitIdentical checks that splitting over goroutines (by rows
// and by columns) gives bit-identical results to one goroutine.
func TestWorkersBitIdentical(t *testing.T) {
	eachAsmKernel(t, testWorkersBitIdentical)
}

func testWorkersBitIdentical(t *testing.T) {
	if runtime.GOMAXPROCS(0) < 2 {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	}
	defer maxWorkers.Store(0)
	rng := rand.New(rand.NewPCG(3, 4))
	shapes := [][3]int{{3136, 64, 64}, {64, 256, 3136}, {257, 100, 300}, {31, 1000, 65}, {100, 33, 700}}
	for _, sh := range shapes {
		for _, ta := range []bool{false, true} {
			for _, tb := range []bool{false, true} {
				for _, beta := range betas {
					p := newProblem(rng, ta, tb, sh[0], sh[1], sh[2], 1, 2, 3, 1, beta)
					maxWorkers.Store(1)
					one := p.run()
					maxWorkers.Store(2)
					two := p.run()
					maxWorkers.Store(3)
					three := p.run()
					for i := range one {
						if math.Float32bits(one[i]) != math.Float32bits(two[i]) || math.Float32bits(one[i]) != math.Float32bits(three[i]) {
							t.Fatalf("%s: element %d differs: 1 worker %v, 2 workers %v, 3 workers %v", p, i, one[i], two[i], three[i])
						}
					}
					if sh[0] <= 100 && sh[2] <= 300 {
						p.verify(t, two)
					}
				}
			}
		}
	}
}

func TestEdgeCases(t *testing.T) {
	for _, fb := range []bool{false, true} {
		prev := SetFallback(fb)
		nan := float32(math.NaN())
		// k == 0: c = beta*c; beta == 0 clears NaN.
		c := []float32{nan, 2, sentinel, nan, 4}
		Sgemm(false, false, 2, 2, 0, 1, make([]float32, 2), 1, nil, 2, 0, c, 3)
		if c[0] != 0 || c[1] != 0 || c[2] != sentinel || c[3] != 0 || c[4] != 0 {
			t.Errorf("fallback=%v k=0 beta=0: %v", fb, c)
		}
		c = []float32{1, 2, sentinel, 3, 4}
		Sgemm(false, false, 2, 2, 0, 1, make([]float32, 2), 1, nil, 2, 0.5, c, 3)
		if c[0] != 0.5 || c[1] != 1 || c[2] != sentinel || c[3] != 1.5 || c[4] != 2 {
			t.Errorf("fallback=%v k=0 beta=0.5: %v", fb, c)
		}
		// alpha == 0 ignores a and b.
		a := []float32{1, 2}
		b := []float32{3, 4}
		c = []float32{nan, nan, nan, nan}
		Sgemm(false, false, 2, 2, 1, 0, a, 1, b, 2, 0, c, 2)
		for _, v := range c {
			if v != 0 {
				t.Errorf("fallback=%v alpha=0 beta=0: %v", fb, c)
				break
			}
		}
		// m == 0 and n == 0 are no-ops.
		Sgemm(false, false, 0, 3, 3, 1, nil, 3, make([]float32, 9), 3, 0, nil, 3)
		Sgemm(false, false, 3, 0, 3, 1, make([]float32, 9), 3, nil, 1, 0, nil, 1)
		SetFallback(prev)
	}
	// Bad arguments panic.
	for _, f := range []func(){
		func() { Sgemm(false, false, -1, 1, 1, 1, nil, 1, nil, 1, 0, nil, 1) },
		func() {
			Sgemm(false, false, 2, 2, 2, 1, make([]float32, 4), 1, make([]float32, 4), 2, 0, make([]float32, 4), 2)
		},
		func() {
			Sgemm(false, false, 2, 2, 2, 1, make([]float32, 3), 2, make([]float32, 4), 2, 0, make([]float32, 4), 2)
		},
		func() {
			Sgemm(false, false, 2, 2, 2, 1, make([]float32, 4), 2, make([]float32, 4), 2, 0, make([]float32, 3), 2)
		},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Error("no panic on bad arguments")
				}
			}()
			f()
		}()
	}
}

// TestNoAllocs checks that steady-state calls, serial and split, allocate
// nothing.
func TestNoAllocs(t *testing.T) { eachAsmKernel(t, testNoAllocs) }

func testNoAllocs(t *testing.T) {
	for _, sh := range [][3]int{{49, 49, 16}, {3136, 64, 64}} {
		m, n, k := sh[0], sh[1], sh[2]
		a, b, c := make([]float32, m*k), make([]float32, k*n), make([]float32, m*n)
		Sgemm(false, false, m, n, k, 1, a, k, b, n, 0, c, n)
		allocs := testing.AllocsPerRun(20, func() {
			Sgemm(false, false, m, n, k, 1, a, k, b, n, 0, c, n)
		})
		// A GC during the run may empty the scratch pool; allow a little.
		if allocs > 0.5 {
			t.Errorf("%v: %v allocs per call", sh, allocs)
		}
	}
}

func FuzzSgemm(f *testing.F) {
	f.Add(uint8(5), uint8(7), uint8(3), uint8(0), uint8(1), uint64(1))
	f.Add(uint8(17), uint8(33), uint8(65), uint8(3), uint8(2), uint64(2))
	f.Fuzz(func(t *testing.T, m, n, k, flags, pad uint8, seed uint64) {
		rng := rand.New(rand.NewPCG(seed, 9))
		ta, tb := flags&1 != 0, flags&2 != 0
		alpha := alphas[int(flags>>2)%len(alphas)]
		beta := betas[int(flags>>3)%len(betas)]
		pd := int(pad % 5)
		p := newProblem(rng, ta, tb, int(m%70)+1, int(n%70)+1, int(k)+1+int(flags>>5)*40, pd, (pd+1)%5, (pd+2)%5, alpha, beta)
		p.verify(t, p.run())
	})
}
