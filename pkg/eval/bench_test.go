package eval

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// BenchmarkLinearProbe/N60000_D128: the size the trainer evaluates on; sep
// 1.5 makes the classes overlap so L-BFGS runs to its iteration limit.
func BenchmarkLinearProbe(b *testing.B) {
	for _, sz := range []struct {
		name    string
		n, d, c int
	}{{"N6000_D64", 6000, 64, 10}, {"N60000_D128", 60000, 128, 10}} {
		b.Run(sz.name, func(b *testing.B) {
			r := rand.New(rand.NewPCG(7, 8))
			train, test := blobs(r, sz.n, sz.d, sz.c, 1.5), blobs(r, sz.n/6, sz.d, sz.c, 1.5)
			for b.Loop() {
				res, err := LinearProbe(train, test, ProbeOptions{})
				if err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(res.Accuracy, "acc")
			}
		})
	}
}

// BenchmarkKNN/N60000_D128: 10000 test rows against 60000 train rows.
func BenchmarkKNN(b *testing.B) {
	r := rand.New(rand.NewPCG(9, 10))
	train, test := blobs(r, 60000, 128, 10, 1.5), blobs(r, 10000, 128, 10, 1.5)
	for b.Loop() {
		res, err := KNN(train, test, 20)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(res.Accuracy, "acc")
	}
}

// BenchmarkProbeLoss times one evaluation of the probe's objective and
// gradient (one L-BFGS iteration costs about one to three of them) at the
// feature widths of the image protocols: 512 (2 layers x 2x2 regions of
// D=64) and 2048 (2 layers x 4x4).
func BenchmarkProbeLoss(b *testing.B) {
	for _, d := range []int{512, 2048} {
		b.Run(fmt.Sprintf("N10000_D%d", d), func(b *testing.B) {
			r := rand.New(rand.NewPCG(3, 4))
			f := blobs(r, 10000, d, 10, 1.5)
			mean, std := moments(f)
			p := &probe{x: standardise(f, mean, std), y: f.Labels, n: f.N, d: f.D, c: f.Classes, l2: DefaultL2}
			w, g := make([]float64, p.c*p.d+p.c), make([]float64, p.c*p.d+p.c)
			for i := range w {
				w[i] = 0.01 * r.NormFloat64()
			}
			for b.Loop() {
				p.loss(w, g)
			}
		})
	}
}
