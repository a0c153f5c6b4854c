package train

import (
	"testing"

	"github.com/d2v/d2v/pkg/config"
	"github.com/d2v/d2v/pkg/data"
	"github.com/d2v/d2v/pkg/feed"
	"github.com/d2v/d2v/pkg/step"
)

// BenchmarkStep times one full pretraining step (teacher forward, student
// forward+backward, AdamW, EMA) of the default config on embedded MNIST.
func BenchmarkStep(b *testing.B) {
	cfg := config.Default()
	set, err := data.Embedded("train")
	if err != nil {
		b.Fatal(err)
	}
	set = set.Subset(512)
	B := cfg.Data.BatchSize
	bt, err := feed.NewBatcher(cfg, set, B)
	if err != nil {
		b.Fatal(err)
	}
	d, err := step.New(step.SetupFor(cfg, B))
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	d.Init(0)
	opt := NewAdamW(0.9, 0.98, 1e-6, 0.05, Decayed)
	idx := make([]int, B)
	for i := range idx {
		idx[i] = i
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		out, err := d.Forward(bt.Patches(idx), bt.Mask(0, int64(i), 0))
		if err != nil {
			b.Fatal(err)
		}
		opt.Step(d.Student, d.Names, out.Grads, 1e-3, ClipCoef(GradNorm(out.Grads), 3))
		d.EMA(0.999)
	}
	b.ReportMetric(float64(B*d.Mod.NumTokens())*float64(b.N)/b.Elapsed().Seconds(), "tok/s")
}
