package gpu_test

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/d2v/d2v/pkg/gpu"
	"github.com/d2v/d2v/pkg/loss"
	"github.com/d2v/d2v/pkg/masking"
	"github.com/d2v/d2v/pkg/model"
	"github.com/d2v/d2v/pkg/step"
	"github.com/d2v/d2v/pkg/teacher"
	"github.com/d2v/d2v/pkg/train"
	"gorgonia.org/tensor"
)

// graphSetups cover what the PyTorch fixtures do not: fixed sin-cos
// positions (1-D and 2-D), the embedding LayerNorm, text's KeepInput,
// instance/layer norms in the other slots, top-1, smooth L1 with mean.
func graphSetups() map[string]step.Setup {
	spec := model.Spec{Dim: 32, Depth: 2, Heads: 4, FFN: 48, LNEps: 1e-5, InitStd: 0.02}
	img, txt := spec, spec
	img.NormFirst, img.HeadLayers = true, 2
	txt.HeadLayers, txt.EmbedLN, txt.Depth = 1, true, 3
	return map[string]step.Setup{
		"image_sincos2d_preln": {Spec: img, Mod: model.Patches{T: 16, PatchDim: 12, Dim: 32, GridH: 4, GridW: 4},
			Batch: 3, NMask: 6, TargetLayer: "block", Scope: "all",
			Target: teacher.TargetSpec{TopK: 2, LayerNorm: teacher.NormInstance, Final: teacher.NormLayer, Eps: 1e-5},
			Loss:   loss.Spec{Beta: 0.5, Reduction: loss.Mean}, Dtype: tensor.Float32},
		"text_embedln_keepinput_postln": {Spec: txt, Mod: model.Tokens{T: 12, Vocab: 40, Dim: 32},
			Batch: 2, NMask: 4, TargetLayer: "ffn", Scope: "blocks", KeepInput: true,
			Target: teacher.TargetSpec{TopK: 1, LayerNorm: teacher.NormNone, Final: teacher.NormInstance, Eps: 1e-5},
			Loss:   loss.Spec{Reduction: loss.D2V}, Dtype: tensor.Float32},
	}
}

func abs32(got, want []float32) float64 {
	var m float64
	for i := range want {
		m = math.Max(m, math.Abs(float64(got[i]-want[i])))
	}
	return m
}

// kb: the gradient of attn.k.b is mathematically zero (softmax ignores a
// shift per query); both sides hold float32 noise, so it is compared
// with an absolute tolerance, as in TestParity.
func kb(name string) bool { return strings.HasSuffix(name, "attn.k.b") }

func rel32(got, want []float32) float64 {
	var num, den float64
	for i := range want {
		num = math.Max(num, math.Abs(float64(got[i]-want[i])))
		den = math.Max(den, math.Abs(float64(want[i])))
	}
	return num / math.Max(den, 1e-30)
}

// TestEngineMatchesGraphs runs three steps of the CPU graphs (pkg/train) and
// of the GPU step on Emu from the same init and inputs, and compares.
func TestEngineMatchesGraphs(t *testing.T) {
	const tol = 1e-4
	for name, s := range graphSetups() {
		t.Run(name, func(t *testing.T) {
			cpu, err := step.New(s)
			if err != nil {
				t.Fatal(err)
			}
			defer cpu.Close()
			dg, err := step.New(s)
			if err != nil {
				t.Fatal(err)
			}
			defer dg.Close()
			cpu.Init(7)
			dg.Init(7)
			optC := train.NewAdamW(0.9, 0.98, 1e-6, 0.05, train.Decayed)
			optG := train.NewAdamW(0.9, 0.98, 1e-6, 0.05, train.Decayed)
			g, err := train.NewGPUStep(dg, optG, gpu.NewEmu())
			if err != nil {
				t.Fatal(err)
			}
			defer g.Close()
			r := rand.New(rand.NewPCG(3, 4))
			T := s.Mod.NumTokens()
			n := 1
			for _, v := range s.Mod.InputShape(s.Batch) {
				n *= v
			}
			for step := 1; step <= 3; step++ {
				x, xt := make([]float32, n), make([]float32, n)
				for i := range x {
					if tok, ok := s.Mod.(model.Tokens); ok {
						xt[i] = float32(r.IntN(tok.Vocab))
						x[i] = xt[i]
						if r.IntN(4) == 0 { // the corrupted student input
							x[i] = float32(r.IntN(tok.Vocab))
						}
					} else {
						x[i] = float32(r.NormFloat64())
						xt[i] = x[i]
					}
				}
				mask := make([]bool, s.Batch*T)
				for b := 0; b < s.Batch; b++ {
					masking.Random(masking.NewRNG(1, int64(step), b), T, s.NMask, mask[b*T:(b+1)*T])
				}
				want, err := cpu.ForwardPair(x, xt, mask)
				if err != nil {
					t.Fatal(err)
				}
				got, norm, err := g.Forward(x, xt, mask)
				if err != nil {
					t.Fatal(err)
				}
				wnorm := train.GradNorm(want.Grads)
				for _, c := range []struct {
					what string
					e    float64
				}{
					{"loss", math.Abs(got.Loss-want.Loss) / math.Abs(want.Loss)},
					{"grad norm", math.Abs(norm-wnorm) / wnorm},
					{"targets", rel32(got.Targets.([]float32), want.Targets.([]float32))},
					{"pred", rel32(got.Pred.([]float32), want.Pred.([]float32))},
				} {
					if c.e > tol || math.IsNaN(c.e) {
						t.Errorf("step %d %s: rel err %.3g", step, c.what, c.e)
					}
				}
				grads, err := g.E.Grads()
				if err != nil {
					t.Fatal(err)
				}
				for i, n := range cpu.Names {
					if kb(n) {
						if e := abs32(grads[i], want.Grads[i].([]float32)); e > 1e-6 {
							t.Errorf("step %d grad %s: abs err %.3g", step, n, e)
						}
					} else if e := rel32(grads[i], want.Grads[i].([]float32)); e > tol {
						t.Errorf("step %d grad %s: rel err %.3g", step, n, e)
					}
				}
				coef := train.ClipCoef(wnorm, 0.5)
				optC.Step(cpu.Student, cpu.Names, want.Grads, 1e-3, coef)
				dec := teacher.Decay(0.99, 0.999, step, 10)
				cpu.EMA(dec)
				if err := g.Update(1e-3, train.ClipCoef(norm, 0.5), dec); err != nil {
					t.Fatal(err)
				}
			}
			if err := g.Sync(); err != nil {
				t.Fatal(err)
			}
			for _, p := range [][2]*model.Params{{cpu.Student, dg.Student}, {cpu.Teacher, dg.Teacher}} {
				for _, n := range p[0].Names() {
					if kb(n) {
						if e := abs32(p[1].Float32s(n), p[0].Float32s(n)); e > 1e-5 {
							t.Errorf("after 3 steps %s: abs err %.3g", n, e)
						}
					} else if e := rel32(p[1].Float32s(n), p[0].Float32s(n)); e > tol {
						t.Errorf("after 3 steps %s: rel err %.3g", n, e)
					}
				}
			}
			for _, n := range cpu.Names {
				if e := rel32(optG.V[n].([]float32), optC.V[n].([]float32)); !kb(n) && e > 10*tol {
					t.Errorf("after 3 steps: AdamW v of %s: rel err %.3g", n, e)
				}
			}
		})
	}
}
