package vmath

import (
	"math"
	"math/rand/v2"
	"testing"
)

// forPaths runs f with the assembly kernels (where available) and with the
// pure-Go fallback.
func forPaths(t *testing.T, f func(t *testing.T)) {
	t.Helper()
	for _, fb := range []bool{false, true} {
		name := "asm"
		if fb {
			name = "go"
		} else if !haveAsm {
			t.Log("no AVX2+FMA: assembly path not tested")
			continue
		}
		t.Run(name, func(t *testing.T) {
			prev := SetFallback(fb)
			defer SetFallback(prev)
			f(t)
		})
	}
}

// expSweep returns float32 inputs covering [lo, hi]: a dense linear grid
// plus every stride-th float32 bit pattern in range (which covers small
// magnitudes logarithmically).
func expSweep(lo, hi float32, step float64, stride uint32) []float32 {
	var xs []float32
	for v := float64(lo); v <= float64(hi); v += step {
		xs = append(xs, float32(v))
	}
	for b := uint32(0); b < 0x7f800000; b += stride {
		for _, x := range []float32{math.Float32frombits(b), -math.Float32frombits(b)} {
			if x >= lo && x <= hi {
				xs = append(xs, x)
			}
		}
	}
	return xs
}

func relErr(got float32, want float64) float64 {
	if want == 0 {
		return math.Abs(float64(got))
	}
	return math.Abs(float64(got)-want) / math.Abs(want)
}

func TestExpAccuracy(t *testing.T) {
	step, stride := 1e-5, uint32(97)
	if testing.Short() {
		step, stride = 1e-3, 4099
	}
	xs := expSweep(-87, 88, step, stride)
	// The edges of the normal range.
	for _, x := range []float32{expLo, expHi, -87.3, 88.7, math.Nextafter32(expLo, 0), math.Nextafter32(expHi, 0)} {
		xs = append(xs, x)
	}
	ys := make([]float32, len(xs))
	forPaths(t, func(t *testing.T) {
		Exp(ys, xs)
		worst, at := 0.0, float32(0)
		for i, x := range xs {
			if e := relErr(ys[i], math.Exp(float64(x))); e > worst || math.IsNaN(e) {
				worst, at = e, x
			}
		}
		t.Logf("%d inputs in [%v, %v]: max relative error %.3g at x = %v", len(xs), float32(-87), expHi, worst, at)
		if !(worst <= 2e-7) {
			t.Errorf("max relative error %.3g at x = %v > 2e-7", worst, at)
		}
	})
}

func TestExpSpecial(t *testing.T) {
	inf := float32(math.Inf(1))
	nan := float32(math.NaN())
	cases := []struct{ x, want float32 }{
		{0, 1},
		{float32(math.Copysign(0, -1)), 1},
		{math.Float32frombits(1), 1},
		{1, float32(math.E)},
		{-1, float32(1 / math.E)},
		{math.Nextafter32(expLo, -1000), 0},
		{-87.5, 0},
		{-100, 0},
		{-1e30, 0},
		{-math.MaxFloat32, 0},
		{float32(math.Inf(-1)), 0},
		{math.Nextafter32(expHi, 1000), inf},
		{89, inf},
		{1e30, inf},
		{math.MaxFloat32, inf},
		{inf, inf},
	}
	forPaths(t, func(t *testing.T) {
		for _, c := range cases {
			var y [1]float32
			Exp(y[:], []float32{c.x})
			if y[0] != c.want {
				t.Errorf("Exp(%v) = %v, want %v", c.x, y[0], c.want)
			}
		}
		// The limits themselves give normal, finite results.
		y := make([]float32, 2)
		Exp(y, []float32{expLo, expHi})
		if !(y[0] >= math.Float32frombits(0x00800000)) || math.IsInf(float64(y[1]), 0) || y[1] < 3.4e38 {
			t.Errorf("Exp(expLo, expHi) = %v", y)
		}
		// NaN, including NaNs with payloads, stays NaN.
		nans := []float32{nan, -nan, math.Float32frombits(0x7fc00001), math.Float32frombits(0x7fa5a5a5), math.Float32frombits(0xffffffff)}
		y = make([]float32, len(nans))
		Exp(y, nans)
		for i, v := range y {
			if v == v {
				t.Errorf("Exp(NaN %#x) = %v", math.Float32bits(nans[i]), v)
			}
		}
	})
}

// checkSentinel reports writes past n in buf.
func checkSentinel(t *testing.T, what string, buf []float32, n int) {
	t.Helper()
	for i := n; i < len(buf); i++ {
		if buf[i] != -7 {
			t.Fatalf("%s n=%d: wrote past the end at %d", what, n, i)
		}
	}
}

func sentinel(n int) []float32 {
	b := make([]float32, n+9)
	for i := range b {
		b[i] = -7
	}
	return b
}

// TestTails checks every length 0..17 for all kernels against the float64
// formulas, without writes past the end, and Exp in place.
func TestTails(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	forPaths(t, func(t *testing.T) {
		for n := 0; n <= 17; n++ {
			x := make([]float32, n)
			dy := make([]float32, n)
			for i := range x {
				x[i] = float32(rng.NormFloat64() * 4)
				dy[i] = float32(rng.NormFloat64())
			}
			y := sentinel(n)
			Exp(y[:n], x)
			checkSentinel(t, "Exp", y, n)
			for i, v := range x {
				if e := relErr(y[i], math.Exp(float64(v))); e > 2e-7 {
					t.Errorf("Exp n=%d i=%d x=%v: rel err %.3g", n, i, v, e)
				}
			}
			in := append([]float32(nil), x...)
			Exp(in, in)
			for i := range in {
				if in[i] != y[i] {
					t.Errorf("Exp in place n=%d i=%d: %v != %v", n, i, in[i], y[i])
				}
			}

			y = sentinel(n)
			GELU(y[:n], x)
			checkSentinel(t, "GELU", y, n)
			for i, v := range x {
				if d := math.Abs(float64(y[i]) - geluRef(float64(v))); d > 1e-6*math.Max(1, math.Abs(float64(v))) {
					t.Errorf("GELU n=%d i=%d x=%v: err %.3g", n, i, v, d)
				}
			}

			y = sentinel(n)
			GELUGrad(y[:n], x, dy)
			checkSentinel(t, "GELUGrad", y, n)
			for i, v := range x {
				want := float64(dy[i]) * geluGradRef(float64(v))
				if d := math.Abs(float64(y[i]) - want); d > 1e-6*math.Max(1, math.Abs(float64(dy[i]))) {
					t.Errorf("GELUGrad n=%d i=%d x=%v: err %.3g", n, i, v, d)
				}
			}

			if n > 0 {
				y = sentinel(n)
				copy(y, x)
				SoftmaxRows(y[:n], n)
				checkSentinel(t, "SoftmaxRows", y, n)
				checkSoftmax(t, y[:n], x, n)
			}
		}
	})
}

func geluRef(v float64) float64 { return 0.5 * v * math.Erfc(-v/math.Sqrt2) }

func geluGradRef(v float64) float64 {
	return 0.5*math.Erfc(-v/math.Sqrt2) + v*math.Exp(-0.5*v*v)/math.Sqrt(2*math.Pi)
}

func TestGELUAccuracy(t *testing.T) {
	var xs []float32
	for v := -12.0; v <= 12; v += 1e-4 {
		xs = append(xs, float32(v))
	}
	for _, v := range []float32{0, float32(math.Copysign(0, -1)), 1e-30, -1e-30, 20, -20, 1e4, -1e4, 1e30, -1e30, math.MaxFloat32, -math.MaxFloat32} {
		xs = append(xs, v)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	dy := make([]float32, len(xs))
	for i := range dy {
		dy[i] = float32(rng.NormFloat64())
	}
	y := make([]float32, len(xs))
	forPaths(t, func(t *testing.T) {
		GELU(y, xs)
		worst, at := 0.0, float32(0)
		for i, x := range xs {
			v := float64(x)
			want := geluRef(v)
			if math.Abs(v) > 1e10 { // erfc(-v/sqrt2) is exactly 0 or 2; v*2 would overflow
				want = max(v, 0)
			}
			e := math.Abs(float64(y[i])-want) / math.Max(1, math.Abs(v))
			if e > worst || math.IsNaN(e) {
				worst, at = e, x
			}
		}
		t.Logf("GELU: max |err|/max(1,|x|) = %.3g at x = %v", worst, at)
		if !(worst <= 1e-6) {
			t.Errorf("GELU: max |err|/max(1,|x|) = %.3g at x = %v > 1e-6", worst, at)
		}

		GELUGrad(y, xs, dy)
		worst, at = 0, 0
		for i, x := range xs {
			want := float64(dy[i]) * geluGradRef(float64(x))
			e := math.Abs(float64(y[i])-want) / math.Max(1, math.Abs(float64(dy[i])))
			if e > worst || math.IsNaN(e) {
				worst, at = e, x
			}
		}
		t.Logf("GELUGrad: max |err|/max(1,|dy|) = %.3g at x = %v", worst, at)
		if !(worst <= 1e-6) {
			t.Errorf("GELUGrad: max |err|/max(1,|dy|) = %.3g at x = %v > 1e-6", worst, at)
		}

		// Special values.
		nan := float32(math.NaN())
		sp := []float32{nan, float32(math.Inf(1))}
		out := make([]float32, 2)
		GELU(out, sp)
		if out[0] == out[0] || !math.IsInf(float64(out[1]), 1) {
			t.Errorf("GELU(NaN, +Inf) = %v", out)
		}
		// GELUGrad(+Inf) is NaN (Inf * exp(-Inf) in x*phi(x)); documented.
		GELUGrad(out, sp, []float32{1, 1})
		if out[0] == out[0] || out[1] == out[1] {
			t.Errorf("GELUGrad(NaN, +Inf) = %v", out)
		}
	})
}

// TestPathsAgree compares the assembly and fallback kernels on random data.
func TestPathsAgree(t *testing.T) {
	if !haveAsm {
		t.Skip("no AVX2+FMA")
	}
	rng := rand.New(rand.NewPCG(5, 6))
	const n = 1 << 16
	x := make([]float32, n)
	dy := make([]float32, n)
	for i := range x {
		x[i] = float32(rng.NormFloat64() * 10)
		dy[i] = float32(rng.NormFloat64())
	}
	run := func(fb bool) (e, g, gg, sm []float32) {
		prev := SetFallback(fb)
		defer SetFallback(prev)
		e, g, gg = make([]float32, n), make([]float32, n), make([]float32, n)
		sm = append([]float32(nil), x...)
		Exp(e, x)
		GELU(g, x)
		GELUGrad(gg, x, dy)
		SoftmaxRows(sm, 64)
		return
	}
	e1, g1, gg1, sm1 := run(false)
	e2, g2, gg2, sm2 := run(true)
	for i, v := range x {
		if relErr(e1[i], float64(e2[i])) > 3e-7 {
			t.Fatalf("Exp(%v): asm %v, go %v", v, e1[i], e2[i])
		}
		if math.Abs(float64(g1[i]-g2[i])) > 1e-6*math.Max(1, math.Abs(float64(v))) {
			t.Fatalf("GELU(%v): asm %v, go %v", v, g1[i], g2[i])
		}
		if math.Abs(float64(gg1[i]-gg2[i])) > 1e-6*math.Max(1, math.Abs(float64(dy[i]))) {
			t.Fatalf("GELUGrad(%v): asm %v, go %v", v, gg1[i], gg2[i])
		}
		if math.Abs(float64(sm1[i]-sm2[i])) > 1e-6*float64(sm2[i])+1e-37 {
			t.Fatalf("SoftmaxRows elem %d: asm %v, go %v", i, sm1[i], sm2[i])
		}
	}
}

// checkSoftmax checks y = softmax of the rows of x: each row sums to 1
// within 1e-6 and matches the float64 softmax within 1e-6 relative (plus
// 1e-37 absolute, for entries flushed to 0 below exp(-87.3)).
func checkSoftmax(t *testing.T, y, x []float32, n int) (worstRel, worstSum float64) {
	t.Helper()
	for r := 0; r < len(x)/n; r++ {
		xr, yr := x[r*n:(r+1)*n], y[r*n:(r+1)*n]
		mx := math.Inf(-1)
		for _, v := range xr {
			mx = math.Max(mx, float64(v))
		}
		var s, sy float64
		for _, v := range xr {
			s += math.Exp(float64(v) - mx)
		}
		for j, v := range xr {
			want := math.Exp(float64(v)-mx) / s
			sy += float64(yr[j])
			if want > 1e-30 {
				worstRel = max(worstRel, math.Abs(float64(yr[j])-want)/want)
			}
			if d := math.Abs(float64(yr[j]) - want); !(d <= 1e-6*want+1e-37) {
				t.Fatalf("n=%d row %d col %d: x=%v got %v want %v (rel %.3g)", n, r, j, v, yr[j], want, d/want)
			}
		}
		if math.Abs(sy-1) > 1e-6 {
			t.Fatalf("n=%d row %d sums to 1%+.3g", n, r, sy-1)
		}
		worstSum = max(worstSum, math.Abs(sy-1))
	}
	return
}

func TestSoftmaxRows(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	forPaths(t, func(t *testing.T) {
		var worstRel, worstSum float64
		for _, n := range []int{1, 7, 8, 9, 49, 64, 100} {
			for _, scale := range []float64{0.01, 1, 10, 100} {
				const rows = 13
				x := make([]float32, rows*n)
				for i := range x {
					x[i] = float32(rng.NormFloat64() * scale)
				}
				// Large values in some rows: must not overflow.
				x[0] = 100
				if n > 1 {
					x[1] = -120
					x[n+n/2] = 200
					x[2*n] = -120
					x[2*n+n-1] = -121
					x[3*n+n/3] = float32(math.Inf(-1)) // masked entry
				}
				y := append([]float32(nil), x...)
				SoftmaxRows(y, n)
				r, s := checkSoftmax(t, y, x, n)
				worstRel, worstSum = max(worstRel, r), max(worstSum, s)
			}
		}
		t.Logf("max relative error %.3g (entries > 1e-30), max |row sum - 1| %.3g", worstRel, worstSum)
		// All-equal huge and tiny rows.
		for _, v := range []float32{3e38, -3e38, 88.8, -1000} {
			y := []float32{v, v, v, v, v, v, v, v, v}
			SoftmaxRows(y, 9)
			for _, e := range y {
				if math.Abs(float64(e)-1.0/9) > 1e-7 {
					t.Fatalf("row of %v: %v", v, y)
				}
			}
		}
		// A NaN poisons its row only.
		y := []float32{1, float32(math.NaN()), 3, 1, 2, 3}
		SoftmaxRows(y, 3)
		for j := 0; j < 3; j++ {
			if y[j] == y[j] {
				t.Fatalf("NaN row: %v", y[:3])
			}
		}
		checkSoftmax(t, y[3:], []float32{1, 2, 3}, 3)
	})
}

func TestPanics(t *testing.T) {
	for name, f := range map[string]func(){
		"Exp":          func() { Exp(make([]float32, 3), make([]float32, 4)) },
		"GELU":         func() { GELU(make([]float32, 3), make([]float32, 4)) },
		"GELUGrad":     func() { GELUGrad(make([]float32, 4), make([]float32, 4), make([]float32, 3)) },
		"SoftmaxRows":  func() { SoftmaxRows(make([]float32, 10), 3) },
		"SoftmaxRows0": func() { SoftmaxRows(make([]float32, 10), 0) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
	// Empty slices are fine.
	Exp(nil, nil)
	GELU(nil, nil)
	GELUGrad(nil, nil, nil)
	SoftmaxRows(nil, 0)
}

func TestNoAllocs(t *testing.T) {
	x := make([]float32, 1000)
	y := make([]float32, 1000)
	forPaths(t, func(t *testing.T) {
		if a := testing.AllocsPerRun(10, func() {
			Exp(y, x)
			GELU(y, x)
			GELUGrad(y, x, x)
			SoftmaxRows(y, 100)
		}); a != 0 {
			t.Errorf("%v allocations per run", a)
		}
	})
}
