package eval

import (
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
