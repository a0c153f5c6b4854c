package vmath

import (
	"math"
	"math/rand/v2"
	"testing"
)

// The baseline: the scalar float32 code of pkg/ops (fastmath.go exp32,
// attention.go softmaxRows, gelu.go erfGauss/geluFwd/geluBwd) as of
// commit c2582ee, copied verbatim except that the parallel() split is
// dropped (the benchmarks are single-threaded on both sides).

type baseFloat interface{ ~float32 | ~float64 }

func baseExp32(x float64) float64 {
	if x < -87.33655 {
		return 0
	}
	if x > 88.72284 {
		return math.Inf(1)
	}
	const round = 0x1.8p52
	t := x * math.Log2E
	n := (t + round) - round
	r := (t - n) * math.Ln2
	p := 1 + r*(1+r*(1.0/2+r*(1.0/6+r*(1.0/24+r*(1.0/120+r*(1.0/720+r*(1.0/5040)))))))
	return p * math.Float64frombits(uint64(int64(n)+1023)<<52)
}

func baseExpOf[T baseFloat](x float64) float64 {
	var z T
	if _, ok := any(z).(float64); ok {
		return math.Exp(x)
	}
	return baseExp32(x)
}

func baseSoftmaxRows[T baseFloat](p []T, n int) {
	for r := 0; r < len(p)/n; r++ {
		row := p[r*n : (r+1)*n]
		mx := row[0]
		for _, v := range row[1:] {
			mx = max(mx, v)
		}
		var s float64
		for j, v := range row {
			e := baseExpOf[T](float64(v - mx))
			row[j] = T(e)
			s += e
		}
		inv := 1 / s
		for j := range row {
			row[j] = T(float64(row[j]) * inv)
		}
	}
}

func baseErfGauss[T baseFloat](x T) (erf, g float64) {
	v := float64(x)
	if _, ok := any(x).(float64); ok {
		return math.Erf(v * invSqrt2), math.Exp(-0.5 * v * v)
	}
	g = baseExp32(-0.5 * v * v)
	z := math.Abs(v) * invSqrt2
	t := 1 / (1 + 0.3275911*z)
	e := 1 - t*(0.254829592+t*(-0.284496736+t*(1.421413741+t*(-1.453152027+t*1.061405429))))*g
	if v < 0 {
		e = -e
	}
	return e, g
}

func baseGeluFwd[T baseFloat](y, x []T) {
	for i := range x {
		erf, _ := baseErfGauss(x[i])
		y[i] = T(0.5 * float64(x[i]) * (1 + erf))
	}
}

func baseGeluBwd[T baseFloat](dx, x, dy []T) {
	for i := range x {
		erf, g := baseErfGauss(x[i])
		d := 0.5*(1+erf) + float64(x[i])*invSqrt2Pi*g
		dx[i] = T(float64(dy[i]) * d)
	}
}

const benchN = 800_000 // ~3.2 MB per slice

func benchData() (x, y, dy []float32) {
	rng := rand.New(rand.NewPCG(9, 10))
	x, y, dy = make([]float32, benchN), make([]float32, benchN), make([]float32, benchN)
	for i := range x {
		x[i] = float32(rng.NormFloat64() * 3)
		dy[i] = float32(rng.NormFloat64())
	}
	return
}

// benchPaths runs f as sub-benchmarks "scalar" (the pkg/ops baseline),
// "go" (the fallback) and "asm", reporting ns/elem.
func benchPaths(b *testing.B, base func(), ours func()) {
	run := func(name string, fb bool, f func()) {
		b.Run(name, func(b *testing.B) {
			if !fb && !haveAsm {
				b.Skip("no AVX2+FMA")
			}
			prev := SetFallback(fb)
			defer SetFallback(prev)
			b.ReportAllocs()
			b.SetBytes(4 * benchN)
			for b.Loop() {
				f()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/benchN, "ns/elem")
		})
	}
	run("scalar", true, base)
	run("go", true, ours)
	run("asm", false, ours)
}

func BenchmarkExp(b *testing.B) {
	x, y, _ := benchData()
	for i := range x {
		x[i] *= 5
	}
	benchPaths(b, func() {
		for i, v := range x {
			y[i] = float32(baseExp32(float64(v)))
		}
	}, func() { Exp(y, x) })
}

func BenchmarkSoftmaxRows49(b *testing.B) {
	x, y, _ := benchData()
	// Softmax is in place: reset from x each time (a copy costs ~0.05
	// ns/elem on both sides).
	benchPaths(b, func() {
		copy(y, x)
		baseSoftmaxRows(y[:benchN/49*49], 49)
	}, func() {
		copy(y, x)
		SoftmaxRows(y[:benchN/49*49], 49)
	})
}

func BenchmarkGELU(b *testing.B) {
	x, y, _ := benchData()
	benchPaths(b, func() { baseGeluFwd(y, x) }, func() { GELU(y, x) })
}

func BenchmarkGELUGrad(b *testing.B) {
	x, y, dy := benchData()
	benchPaths(b, func() { baseGeluBwd(y, x, dy) }, func() { GELUGrad(y, x, dy) })
}

// BenchmarkCopy is the memory-traffic floor for one 800k read + write.
func BenchmarkCopy(b *testing.B) {
	x, y, _ := benchData()
	b.SetBytes(4 * benchN)
	for b.Loop() {
		copy(y, x)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/benchN, "ns/elem")
}
