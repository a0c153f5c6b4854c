package step

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"github.com/d2v/d2v/pkg/loss"
	"github.com/d2v/d2v/pkg/masking"
	"github.com/d2v/d2v/pkg/model"
	"github.com/d2v/d2v/pkg/teacher"
)

// gc2Case is one setting of the data2vec 2.0 whole-loss gradient check.
type gc2Case struct {
	name       string
	mod        model.Modality
	normFirst  bool
	cls        bool
	dec        model.Decoder
	scope      string
	final      teacher.Norm
	beta       float64
	clones     int
	maskProb   float64
	embedLN    bool
	learnedPos bool
}

const gc2B = 2

// decoder is c.dec for the model's width and positions.
func (c gc2Case) decoder() model.Decoder {
	dec := c.dec
	dec.Dim, dec.Positions = gcDim, c.mod.NumTokens()
	return dec
}

var gc2Cases = []gc2Case{
	{name: "patches/2d/preln/cls/all", mod: model.Patches{T: 9, PatchDim: 3, Dim: gcDim}, normFirst: true, cls: true,
		dec:   model.Decoder{Kind: model.Decoder2D, DecDim: gcDim, Kernel: 3, Groups: 2, Layers: 2, ProjLayers: 1, Residual: true, LNEps: 1e-5},
		scope: "all", final: teacher.NormLayer, clones: 2, maskProb: 0.6, learnedPos: true},
	{name: "patches/2d-even-k/postln/cls/blocks/wide", mod: model.Patches{T: 16, PatchDim: 3, Dim: gcDim, GridH: 4, GridW: 4},
		cls: true, dec: model.Decoder{Kind: model.Decoder2D, DecDim: 12, Kernel: 2, Groups: 4, Layers: 2, ProjLayers: 1, Residual: true, LNEps: 1e-5},
		scope: "blocks", final: teacher.NormLayer, clones: 3, maskProb: 0.75},
	{name: "tokens/1d/postln/blocks/wide/proj2", mod: model.Tokens{T: 6, Vocab: 7, Dim: gcDim},
		dec:   model.Decoder{Kind: model.Decoder1D, DecDim: 12, Kernel: 4, Groups: 2, Layers: 2, ProjLayers: 2, Residual: true, LNEps: 1e-5},
		scope: "blocks", final: teacher.NormNone, clones: 3, maskProb: 0.5, learnedPos: true, embedLN: true},
	{name: "tokens/1d/preln/cls/all/noresidual/smoothl1", mod: model.Tokens{T: 6, Vocab: 7, Dim: gcDim}, normFirst: true, cls: true,
		dec:   model.Decoder{Kind: model.Decoder1D, DecDim: gcDim, Kernel: 3, Groups: 1, Layers: 3, ProjLayers: 1, LNEps: 1e-5},
		scope: "all", final: teacher.NormInstance, beta: 0.5, clones: 2, maskProb: 0.5, learnedPos: true},
	{name: "audio/1d/postln/blocks", mod: model.Audio{Samples: 22, Conv: [][2]int{{4, 2}, {3, 2}}, ConvDim: 4, Dim: gcDim,
		PosWidth: 6, PosGroups: 2, PosDepth: 2, LNEps: 1e-5},
		dec:   model.Decoder{Kind: model.Decoder1D, DecDim: gcDim, Kernel: 3, Groups: 2, Layers: 2, ProjLayers: 1, Residual: true, LNEps: 1e-5},
		scope: "blocks", final: teacher.NormNone, clones: 2, maskProb: 0.5, embedLN: true},
}

// gc2Prepare builds a float64 model for c with perturbed non-weight
// parameters, a batch, clone masks and the teacher's (fixed) targets.
func gc2Prepare(t *testing.T, c gc2Case) (*D2V2, []float64, []bool, []float64) {
	t.Helper()
	T := c.mod.NumTokens()
	s := Setup2{
		Spec: model.Spec{Dim: gcDim, Depth: gcDepth, Heads: gcHeads, FFN: gcFFN, NormFirst: c.normFirst, LNEps: 1e-5,
			HeadLayers: 1, LearnedPos: c.learnedPos, InitStd: 0.3, EmbedLN: c.embedLN},
		Mod: c.mod, Batch: gc2B, Clones: c.clones, Keep: masking.KeepCount(c.maskProb, T), CLS: c.cls, CLSWeight: 0.3,
		Decoder: c.decoder(), TargetLayer: "ffn", Scope: c.scope,
		Target: teacher.TargetSpec{TopK: 2, LayerNorm: teacher.NormInstance, Final: c.final, Eps: 1e-5},
		Loss:   loss.Spec{Beta: c.beta, Reduction: loss.D2V}, Dtype: tensor.Float64,
	}
	d, err := New2(s)
	if err != nil {
		t.Fatal(err)
	}
	d.Init(3)
	r := rand.New(rand.NewPCG(5, 5))
	for _, n := range d.Names { // no gradient trivially zero or symmetric
		v := d.Student.Get(n).Data().([]float64)
		for i := range v {
			if !strings.HasSuffix(n, ".w") {
				v[i] += 0.1 * r.NormFloat64()
			}
		}
	}
	var x []float64
	if tok, ok := c.mod.(model.Tokens); ok {
		for i := 0; i < gc2B*T; i++ {
			x = append(x, float64(r.IntN(tok.Vocab)))
		}
	} else if au, ok := c.mod.(model.Audio); ok {
		for i := 0; i < gc2B*au.Samples; i++ {
			x = append(x, r.NormFloat64())
		}
	} else {
		for i := 0; i < gc2B*T*c.mod.(model.Patches).PatchDim; i++ {
			x = append(x, r.NormFloat64())
		}
	}
	mask := make([]bool, gc2B*c.clones*T)
	masking.CloneMasks(1, 2, 0, gc2B, c.clones, T, mask, func(rr *rand.Rand, row []bool) {
		masking.Random(rr, T, T-s.Keep, row)
	})
	full, err := d.TargetsFull(x)
	if err != nil {
		t.Fatal(err)
	}
	return d, x, mask, slices.Clone(full.([]float64))
}

// TestStudentLoss2Gradient checks the analytic gradient of the whole data2vec
// 2.0 student loss (embedding, visible-token gather with the CLS token,
// blocks, scatter with the mask vector, 1-D or 2-D decoder, regression and
// CLS losses) against float64 central differences for every student and
// decoder parameter tensor, the teacher's targets held fixed.
func TestStudentLoss2Gradient(t *testing.T) {
	worstAll := 0.0
	for _, c := range gc2Cases {
		t.Run(c.name, func(t *testing.T) {
			d, x, mask, full := gc2Prepare(t, c)
			defer d.Close()
			worstAll = math.Max(worstAll, gc2Check(t, d, x, mask, full))
		})
	}
	t.Logf("worst relative error over all settings: %.3g", worstAll)
}

func gc2Check(t *testing.T, d *D2V2, x []float64, mask []bool, full []float64) float64 {
	t.Helper()
	pass := func() *Output2 {
		out, err := d.StudentPass2(x, mask, full)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	out := pass()
	if d.CLS && !(out.LossCLS > 0) {
		t.Fatalf("CLS loss %g: the CLS term is not exercised", out.LossCLS)
	}
	grads := make([][]float64, len(out.Grads))
	for i, g := range out.Grads {
		grads[i] = slices.Clone(g.([]float64))
	}
	r := rand.New(rand.NewPCG(7, 7))
	worst, worstName := 0.0, ""
	for i, name := range d.Names {
		p := d.Student.Get(name).Data().([]float64)
		a := grads[i]
		var num, den float64
		for _, j := range gcEntries(a, r) {
			orig := p[j]
			p[j] = orig + gcEps
			lp := pass().Loss
			p[j] = orig - gcEps
			lm := pass().Loss
			p[j] = orig
			fd := (lp - lm) / (2 * gcEps)
			num = math.Max(num, math.Abs(a[j]-fd))
			den = math.Max(den, math.Abs(fd))
		}
		if strings.HasSuffix(name, ".attn.k.b") {
			if num > gcAbsTol {
				t.Errorf("%s: |analytic - fd| = %.3g > %g", name, num, gcAbsTol)
			}
			continue
		}
		if den < 1e-6 {
			t.Errorf("%s: finite-difference gradient is ~0 (max %.3g): the check is vacuous", name, den)
			continue
		}
		if rel := num / den; rel > worst {
			worst, worstName = rel, name
		}
		if rel := num / den; rel > gcRelTol {
			t.Errorf("%s: relative error %.3g > %g (max |fd| %.3g)", name, rel, gcRelTol, den)
		}
	}
	t.Logf("%d tensors; worst relative error %.3g (%s)", len(d.Names), worst, worstName)
	return worst
}

func TestSetup2Validate(t *testing.T) {
	c := gc2Cases[0]
	base := Setup2{Spec: model.Spec{Dim: gcDim, Depth: gcDepth, Heads: gcHeads, FFN: gcFFN, LNEps: 1e-5, HeadLayers: 1},
		Mod: c.mod, Batch: 2, Clones: 2, Keep: 3, Decoder: c.decoder(), TargetLayer: "ffn", Scope: "all",
		Target: teacher.TargetSpec{TopK: 2}, Loss: loss.Spec{Reduction: loss.D2V}, Dtype: tensor.Float64}
	if err := base.Validate(); err != nil {
		t.Fatalf("valid setup: %v", err)
	}
	for _, tt := range []struct {
		want string
		edit func(*Setup2)
	}{
		{"visible positions", func(s *Setup2) { s.Keep = 9 }},
		{"clones", func(s *Setup2) { s.Clones = 0 }},
		{"reduction", func(s *Setup2) { s.Loss.Reduction = loss.Mean }},
		{"positions", func(s *Setup2) { s.Mod = model.Tokens{T: 6, Vocab: 7, Dim: gcDim} }},
		{"square", func(s *Setup2) { s.Mod, s.Decoder.Positions = model.Tokens{T: 6, Vocab: 7, Dim: gcDim}, 6 }},
		{"groups", func(s *Setup2) { s.Decoder.Groups = 3 }},
		{"proj_layers", func(s *Setup2) { s.Decoder.ProjLayers = 3 }},
	} {
		s := base
		tt.edit(&s)
		if err := s.Validate(); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: Validate() = %v", tt.want, err)
		}
	}
}
