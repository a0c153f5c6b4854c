package vmath

import (
	"math"
	"math/rand/v2"
	"testing"
)

func randScaled(rng *rand.Rand, n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = (rng.Float32()*2 - 1) * float32(math.Pow(10, float64(rng.IntN(8)-4)))
	}
	return x
}

// TestSumSquaresBits checks SumSquares against the plain 16-lane loop bit
// for bit around the 16-element blocks, and against a float64 sum.
func TestSumSquaresBits(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, n := range []int{0, 1, 15, 16, 17, 31, 32, 100, 1000, 65537} {
		x := randScaled(rng, n)
		var acc [16]float64
		sumSquaresGo(&acc, x)
		want := laneSum(&acc)
		got := SumSquares(x)
		if math.Float64bits(got) != math.Float64bits(want) {
			t.Fatalf("n=%d: SumSquares = %v, plain lanes %v", n, got, want)
		}
		var ref float64
		for _, v := range x {
			ref += float64(v) * float64(v)
		}
		if math.Abs(got-ref) > 1e-12*math.Max(ref, 1e-300) {
			t.Fatalf("n=%d: SumSquares = %v, sequential float64 sum %v", n, got, ref)
		}
	}
}

// TestEMABits checks EMA against the plain loop bit for bit, and the
// plain loop against float64 arithmetic rounded the same way.
func TestEMABits(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, n := range []int{0, 1, 7, 8, 9, 64, 1001} {
		t0, s := randScaled(rng, n), randScaled(rng, n)
		a := float32(0.999)
		b := 1 - a
		got, want := append([]float32(nil), t0...), append([]float32(nil), t0...)
		EMA(got, s, a, b)
		sep := make([]float32, n)
		AXPBY(sep, t0, s, a, b) // a separate destination
		for i := range want {
			want[i] = float32(float64(float32(float64(a)*float64(want[i]))) + float64(float32(float64(b)*float64(s[i]))))
		}
		for i := range got {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) || math.Float32bits(sep[i]) != math.Float32bits(want[i]) {
				t.Fatalf("n=%d: t[%d] = %v (AXPBY into another slice %v), want %v", n, i, got[i], sep[i], want[i])
			}
		}
	}
}

// benchImpls runs f as sub-benchmarks "asm" (skipped without the
// assembly) and "go" (the portable kernels), bytes per op each.
func benchImpls(b *testing.B, bytes int64, f func()) {
	for _, impl := range []string{"asm", "go"} {
		b.Run(impl, func(b *testing.B) {
			if impl == "asm" && !haveAsm {
				b.Skip("no assembly")
			}
			prev := SetFallback(impl == "go")
			defer SetFallback(prev)
			b.SetBytes(bytes)
			for i := 0; i < b.N; i++ {
				f()
			}
		})
	}
}

func BenchmarkSumSquares(b *testing.B) {
	x := make([]float32, 1<<16)
	benchImpls(b, int64(len(x))*4, func() { SumSquares(x) })
}

func BenchmarkEMA(b *testing.B) {
	t, s := make([]float32, 1<<16), make([]float32, 1<<16)
	benchImpls(b, int64(len(t))*8, func() { EMA(t, s, 0.999, 0.001) })
}

// TestTapSum checks TapSum around the 32-element blocks against float64
// sums (the assembly fuses each multiply-add, the Go path does not, so
// both only to rounding), bit for bit against the Go loop when the
// assembly is off, and TapSum2 bit for bit against two TapSum calls; bad
// offsets panic.
func TestTapSum(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for _, n := range []int{0, 1, 31, 32, 33, 64, 100, 1000} {
		for _, terms := range []int{0, 1, 9, 36} {
			x := randScaled(rng, n+50)
			off, w, w1 := make([]int, terms), randScaled(rng, terms), randScaled(rng, terms)
			for k := range off {
				off[k] = rng.IntN(51)
			}
			y0 := randScaled(rng, n)
			got, goy := append([]float32(nil), y0...), append([]float32(nil), y0...)
			TapSum(got, x, off, w)
			tapSumGo(goy, x, off, w)
			for i := range got {
				ref, mag := float64(y0[i]), math.Abs(float64(y0[i]))
				for k, o := range off {
					ref += float64(w[k]) * float64(x[o+i])
					mag += math.Abs(float64(w[k]) * float64(x[o+i]))
				}
				for _, v := range []float32{got[i], goy[i]} {
					if math.Abs(float64(v)-ref) > 1e-5*mag {
						t.Fatalf("n=%d terms=%d: y[%d] = %v (Go loop %v), float64 %v", n, terms, i, got[i], goy[i], ref)
					}
				}
				if !Accelerated() && math.Float32bits(got[i]) != math.Float32bits(goy[i]) {
					t.Fatalf("n=%d terms=%d: y[%d] = %v without assembly, Go loop %v", n, terms, i, got[i], goy[i])
				}
			}
			a, b := append([]float32(nil), y0...), randScaled(rng, n)
			b1 := append([]float32(nil), b...)
			TapSum2(a, b, x, off, w, w1)
			TapSum(b1, x, off, w1)
			for i := range a {
				if math.Float32bits(a[i]) != math.Float32bits(got[i]) || math.Float32bits(b[i]) != math.Float32bits(b1[i]) {
					t.Fatalf("n=%d terms=%d: TapSum2 y[%d] = %v, %v; TapSum %v, %v", n, terms, i, a[i], b[i], got[i], b1[i])
				}
			}
		}
	}
	for _, off := range [][]int{{-1}, {51}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("offset %v: no panic", off)
				}
			}()
			TapSum(make([]float32, 50), make([]float32, 100), off, []float32{1})
		}()
	}
}

// TestDotShifts checks DotShifts for term counts around the groups of
// eight against float64 sums, and bit for bit against the plain 8-lane
// loop when the assembly is off (with it, fused multiply-adds round
// differently); bad offsets panic.
func TestDotShifts(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	for _, n := range []int{0, 1, 7, 8, 9, 64, 1001} {
		for _, terms := range []int{0, 1, 7, 8, 9, 25} {
			d, x := randScaled(rng, n), randScaled(rng, n+40)
			off := make([]int, terms)
			for k := range off {
				off[k] = rng.IntN(41)
			}
			got := make([]float32, terms)
			DotShifts(got, d, x, off)
			for k, o := range off {
				var a [8]float32
				dotLanes8(&a, d, x[o:])
				want := ((a[0] + a[4]) + (a[2] + a[6])) + ((a[1] + a[5]) + (a[3] + a[7]))
				if !Accelerated() && math.Float32bits(got[k]) != math.Float32bits(want) {
					t.Fatalf("n=%d terms=%d: out[%d] = %v without assembly, plain lanes %v", n, terms, k, got[k], want)
				}
				var ref, mag float64
				for i, v := range d {
					ref += float64(v) * float64(x[o+i])
					mag += math.Abs(float64(v) * float64(x[o+i]))
				}
				if math.Abs(float64(got[k])-ref) > 1e-5*mag {
					t.Fatalf("n=%d terms=%d: out[%d] = %v, float64 %v", n, terms, k, got[k], ref)
				}
			}
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("an offset past the end did not panic")
		}
	}()
	DotShifts(make([]float32, 1), make([]float32, 10), make([]float32, 12), []int{3})
}

// TestTranspose checks Transpose element by element for shapes around the
// 8x8 blocks, with leading dimensions larger than the matrices.
func TestTranspose(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 16))
	for _, rows := range []int{1, 7, 8, 9, 16, 23} {
		for _, cols := range []int{1, 7, 8, 9, 17, 64} {
			lds, ldd := cols+rng.IntN(5), rows+rng.IntN(5)
			src := randScaled(rng, (rows-1)*lds+cols)
			dst := make([]float32, (cols-1)*ldd+rows)
			for i := range dst {
				dst[i] = -7 // untouched between the leading dimension's columns
			}
			Transpose(dst, ldd, src, lds, rows, cols)
			for j := 0; j < cols; j++ {
				for i := 0; i < ldd && j*ldd+i < len(dst); i++ {
					want := float32(-7)
					if i < rows {
						want = src[i*lds+j]
					}
					if got := dst[j*ldd+i]; got != want {
						t.Fatalf("%dx%d lds %d ldd %d: dst[%d][%d] = %v, want %v", rows, cols, lds, ldd, j, i, got, want)
					}
				}
			}
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("a short source did not panic")
		}
	}()
	Transpose(make([]float32, 64), 8, make([]float32, 63), 8, 8, 8)
}
