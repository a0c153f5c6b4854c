package train

import (
	"testing"

	"github.com/d2v/d2v/pkg/config"
	"github.com/d2v/d2v/pkg/step"
	"github.com/d2v/d2v/pkg/teacher"
)

// BenchmarkStepConfig times one full data2vec step (teacher forward,
// student forward+backward, AdamW, EMA) of the performance issue's configs
// S and M and its long-sequence case (S with T=256), the same step as `d2v
// bench`, with B/op and allocs/op of the steady state.
func BenchmarkStepConfig(b *testing.B) {
	for _, c := range []struct{ name, path string }{
		{"S", "../../configs/bench-s.yaml"},
		{"M", "../../configs/bench-m.yaml"},
		{"S_T256", "../../configs/bench-s.yaml"},
		{"S_patches", "../../configs/bench-s-patches.yaml"},
	} {
		b.Run(c.name, func(b *testing.B) {
			var sets []string
			if c.name == "S_T256" {
				sets = []string{"modalities.tokens.seq_len=256"}
			}
			cfg, err := config.Load(c.path, sets)
			if err != nil {
				b.Fatal(err)
			}
			benchStep(b, cfg)
		})
	}
}

func benchStep(b *testing.B, cfg *config.Config) {
	B := cfg.Data.BatchSize
	s := step.SetupFor(cfg, B)
	d, err := step.New(s)
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	d.Init(uint64(cfg.Run.Seed))
	oc := cfg.Optim
	opt := NewAdamW(oc.Beta1, oc.Beta2, oc.Eps, oc.WeightDecay, Decayed)
	x := benchInputs(cfg, s, 1)[0]
	mask := make([]bool, B*s.Mod.NumTokens())
	step := func(i int) {
		benchMask(cfg.Run.Seed, s, i, mask)
		out, err := d.Forward(x, mask)
		if err != nil {
			b.Fatal(err)
		}
		opt.Step(d.Student, d.Names, out.Grads, oc.LR, ClipCoef(GradNorm(out.Grads), oc.Clip))
		d.EMA(teacher.Decay(cfg.Teacher.EMAStart, cfg.Teacher.EMAEnd, i+1, cfg.Teacher.EMAAnnealSteps))
	}
	for i := 0; i < 3; i++ {
		step(i)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		step(i + 3)
	}
	b.ReportMetric(StepFLOPs(s)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}
