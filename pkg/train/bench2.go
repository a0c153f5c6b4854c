package train

import (
	"runtime"

	"github.com/d2v/d2v/pkg/config"
	"github.com/d2v/d2v/pkg/feed"
	"github.com/d2v/d2v/pkg/gemm"
	"github.com/d2v/d2v/pkg/step"
	"github.com/d2v/d2v/pkg/teacher"
)

// StepFLOPs2 counts the matrix-multiply FLOPs of one data2vec 2.0 step as
// StepFLOPs counts a data2vec one: the teacher forward on the B*T un-cloned
// tokens (1x), the student forward and backward (3x) on the N*(E+K)
// visible tokens of the clones, and the decoder's convolutions and
// projection over all N*T positions (3x), plus the patch projection.
func StepFLOPs2(s step.Setup2) float64 {
	sh := s.Shape()
	D, F, H := float64(sh.D), float64(s.Spec.FFN), float64(s.Spec.Heads)
	layer := func(seqs, t float64) float64 { // one block over seqs sequences of t tokens
		n := seqs * t
		return 2*n*D*D*4 + 2*n*D*F*2 + 2*2*seqs*H*t*t*(D/H)
	}
	L := float64(s.Spec.Depth)
	teach := L * layer(float64(sh.B), float64(sh.E+sh.T))
	stud := L * layer(float64(sh.N), float64(sh.E+sh.K))
	dc, rows := s.Decoder, float64(sh.N*sh.T)
	taps := float64(dc.Kernel)
	if dc.Kind == "2d" {
		taps *= taps
	}
	var dec float64
	for i := 0; i < dc.Layers; i++ {
		cin := float64(dc.DecDim)
		if i == 0 {
			cin = D
		}
		dec += 2 * rows * float64(dc.DecDim) * cin / float64(dc.Groups) * taps
	}
	if dc.ProjLayers == 2 {
		dec += 2*rows*float64(dc.DecDim)*2*float64(dc.DecDim) + 2*rows*2*float64(dc.DecDim)*D
	} else {
		dec += 2 * rows * float64(dc.DecDim) * D
	}
	var embed float64 // patch projection: teacher (1x) and student (3x) on the B un-cloned samples
	if in := s.Mod.InputShape(1); len(in) == 2 {
		embed = 2 * float64(sh.B*sh.T) * float64(in[1]) * D
	}
	return teach + 3*stud + 3*dec + 4*embed
}

// bench2 is Bench for method data2vec2: full data2vec 2.0 steps (teacher,
// clones, student, decoder, AdamW, EMA) on the synthetic input of the
// reference step's timing mode, with feed.CloneMasks' masks.
func bench2(cfg *config.Config, name string, steps, warmup int) (*BenchResult, error) {
	if cfg.Run.Threads > 0 {
		runtime.GOMAXPROCS(cfg.Run.Threads)
	}
	B := cfg.Data.BatchSize
	in, err := benchFeedInput(cfg)
	if err != nil {
		return nil, err
	}
	s := step.Setup2For(cfg, B, in)
	d, err := step.New2(s)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	d.Init(uint64(cfg.Run.Seed))
	masks, err := feed.NewCloneMasks(cfg, B)
	if err != nil {
		return nil, err
	}
	oc := cfg.Optim
	opt := NewAdamW(oc.Beta1, oc.Beta2, oc.Eps, oc.WeightDecay, Decayed2)
	inputs := benchInputs(cfg, step.Setup{Mod: s.Mod, Batch: B}, 4) // a few batches, reused round robin
	flops := StepFLOPs2(s) / 1e9
	res := &BenchResult{Config: name, Input: string(cfg.Model.Modality) + " (data2vec2)", GFLOPPerStep: flops, GFLOPRun: flops,
		Threads: runtime.GOMAXPROCS(0), GEMMKernel: gemm.Kernel()}
	var mask []bool
	var out *step.Output2
	err = timeSteps(res, warmup, steps,
		func(i int) { mask = masks.Masks(cfg.Run.Seed, int64(i), 0) },
		func(i int) (err error) { out, err = d.Forward2(inputs[i%len(inputs)], mask); return err },
		func(i int) {
			opt.Step(d.Student, d.Names, out.Grads, oc.LR, ClipCoef(GradNorm(out.Grads), oc.Clip))
			d.EMA(teacher.Decay(cfg.Teacher.EMAStart, cfg.Teacher.EMAEnd, i+1, cfg.Teacher.EMAAnnealSteps))
		})
	return res, err
}
