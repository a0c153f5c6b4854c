package step

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"github.com/d2v/d2v/pkg/loss"
	"github.com/d2v/d2v/pkg/model"
	"github.com/d2v/d2v/pkg/teacher"
)

// gcCase is one architecture/loss setting of the whole-step gradient check.
type gcCase struct {
	tokens, normFirst, learnedPos bool
	head                          int
	beta                          float64 // 0: L2 with d2v reduction; else smooth L1 with mean
	targetLayer, scope            string
	norm, final                   teacher.Norm
	topK                          int
}

func (c gcCase) name() string {
	in := "patches"
	if c.tokens {
		in = "tokens"
	}
	ln := "postln"
	if c.normFirst {
		ln = "preln"
	}
	pos := "sincos"
	if c.learnedPos {
		pos = "learnedpos"
	}
	red := "d2v"
	if c.beta > 0 {
		red = "mean"
	}
	return fmt.Sprintf("%s/%s/head%d/beta%g-%s/%s/%s/%s", in, ln, c.head, c.beta, red, c.targetLayer, c.scope, pos)
}

const (
	gcB, gcT, gcDim, gcHeads, gcFFN, gcDepth = 2, 4, 8, 2, 12, 2
	gcPatchDim, gcVocab, gcNMask             = 3, 7, 2
)

func gcSetupFor(c gcCase) Setup {
	spec := model.Spec{Dim: gcDim, Depth: gcDepth, Heads: gcHeads, FFN: gcFFN, NormFirst: c.normFirst,
		LNEps: 1e-5, HeadLayers: c.head, LearnedPos: c.learnedPos, InitStd: 0.3}
	var mod model.Modality = model.Patches{T: gcT, PatchDim: gcPatchDim, Dim: gcDim}
	if c.tokens {
		mod = model.Tokens{T: gcT, Vocab: gcVocab, Dim: gcDim}
	}
	ls := loss.Spec{Beta: 0, Reduction: loss.D2V}
	if c.beta > 0 {
		ls = loss.Spec{Beta: c.beta, Reduction: loss.Mean}
	}
	return Setup{Spec: spec, Mod: mod, Batch: gcB, NMask: gcNMask, TargetLayer: c.targetLayer, Scope: c.scope,
		Target: teacher.TargetSpec{TopK: c.topK, LayerNorm: c.norm, Final: c.final, Eps: 1e-5},
		Loss:   ls, Dtype: tensor.Float64}
}

// gcBatch draws an input and a mask with exactly gcNMask masked positions per sample.
func gcBatch(tokens bool, r *rand.Rand) ([]float64, []bool) {
	var x []float64
	if tokens {
		for i := 0; i < gcB*gcT; i++ {
			x = append(x, float64(r.IntN(gcVocab)))
		}
	} else {
		for i := 0; i < gcB*gcT*gcPatchDim; i++ {
			x = append(x, r.NormFloat64())
		}
	}
	mask := make([]bool, gcB*gcT)
	for b := 0; b < gcB; b++ {
		for _, t := range r.Perm(gcT)[:gcNMask] {
			mask[b*gcT+t] = true
		}
	}
	return x, mask
}

// gcModel builds and initialises a float64 model, then moves every bias, LN
// gain/bias, position and mask embedding away from its init so that no
// gradient is trivially zero or symmetric.
func gcModel(t *testing.T, c gcCase, seed uint64) *D2V {
	t.Helper()
	d, err := New(gcSetupFor(c))
	if err != nil {
		t.Fatal(err)
	}
	d.Init(seed)
	gcPerturb(d, seed)
	return d
}

// gcPerturb moves every non-weight parameter (biases, LN gains and biases,
// positions, mask embedding) away from its init, so no gradient is
// trivially zero or symmetric.
func gcPerturb(d *D2V, seed uint64) {
	r := rand.New(rand.NewPCG(seed, 99))
	for _, n := range d.Names {
		if strings.HasSuffix(n, ".w") {
			continue
		}
		v := d.Student.Get(n).Data().([]float64)
		for i := range v {
			v[i] += 0.1 * r.NormFloat64()
		}
	}
}

// gcLoss is the student loss at the current parameters.
func gcLoss(t *testing.T, d *D2V, x []float64, mask []bool, y any) float64 {
	t.Helper()
	out, err := d.StudentPass(x, mask, y)
	if err != nil {
		t.Fatal(err)
	}
	return out.Loss
}

// gcEntries picks the entries to check: all of a small tensor, else 20
// random ones plus the largest analytic gradient.
func gcEntries(g []float64, r *rand.Rand) []int {
	if len(g) <= 32 {
		idx := make([]int, len(g))
		for i := range idx {
			idx[i] = i
		}
		return idx
	}
	idx := r.Perm(len(g))[:20]
	big := 0
	for i, v := range g {
		if math.Abs(v) > math.Abs(g[big]) {
			big = i
		}
	}
	if !slices.Contains(idx, big) {
		idx = append(idx, big)
	}
	return idx
}

const (
	gcEps    = 1e-6
	gcRelTol = 1e-5 // STYLE asks for 1e-4; the whole step holds ~1e-7
	gcAbsTol = 1e-8 // attn.k.b: the true gradient is 0
)

var gcCases = []gcCase{
	// a 2^(6-3) fractional design over {input, LN, head, loss, target layer, scope}:
	// every value appears four times; target norms, top-K and positions vary too.
	{false, false, true, 1, 0, "block", "all", teacher.NormLayer, teacher.NormLayer, 2},
	{true, false, true, 2, 0, "ffn", "blocks", teacher.NormInstance, teacher.NormNone, 2},
	{false, true, true, 2, 0, "block", "blocks", teacher.NormNone, teacher.NormLayer, 1},
	{true, true, false, 1, 0, "ffn", "all", teacher.NormLayer, teacher.NormInstance, 2},
	{false, false, false, 2, 0.5, "ffn", "all", teacher.NormInstance, teacher.NormLayer, 1},
	{true, false, true, 1, 0.5, "block", "blocks", teacher.NormLayer, teacher.NormNone, 2},
	{false, true, true, 1, 0.5, "ffn", "blocks", teacher.NormLayer, teacher.NormLayer, 2},
	{true, true, true, 2, 0.5, "block", "all", teacher.NormNone, teacher.NormNone, 2},
}

// TestStudentLossGradient checks the analytic gradient of the whole student
// loss (embedding, masking, blocks, head, regression loss) against central
// differences for every student and head parameter tensor, with the teacher
// targets held fixed.
func TestStudentLossGradient(t *testing.T) {
	worstAll := 0.0
	for _, c := range gcCases {
		t.Run(c.name(), func(t *testing.T) {
			d, x, mask, y := gcPrepare(t, c)
			defer d.Close()
			worstAll = math.Max(worstAll, gcCheck(t, d, x, mask, y))
		})
	}
	t.Logf("worst relative error over all settings: %.3g", worstAll)
}

// gcCheck compares every student and head gradient of one pass with central
// differences and returns the worst relative error.
func gcCheck(t *testing.T, d *D2V, x []float64, mask []bool, y any) float64 {
	t.Helper()
	worst, worstName := 0.0, ""
	out, err := d.StudentPass(x, mask, y)
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Grads) != len(d.Names) {
		t.Fatalf("%d gradients for %d parameters", len(out.Grads), len(d.Names))
	}
	// views are only valid until the next pass
	grads := make([][]float64, len(out.Grads))
	for i, g := range out.Grads {
		grads[i] = slices.Clone(g.([]float64))
	}
	r := rand.New(rand.NewPCG(7, 7))
	for i, name := range d.Names {
		p := d.Student.Get(name).Data().([]float64)
		a := grads[i]
		if len(a) != len(p) {
			t.Fatalf("%s: gradient has %d values, parameter %d", name, len(a), len(p))
		}
		var num, den float64
		for _, j := range gcEntries(a, r) {
			orig := p[j]
			p[j] = orig + gcEps
			lp := gcLoss(t, d, x, mask, y)
			p[j] = orig - gcEps
			lm := gcLoss(t, d, x, mask, y)
			p[j] = orig
			fd := (lp - lm) / (2 * gcEps)
			num = math.Max(num, math.Abs(a[j]-fd))
			den = math.Max(den, math.Abs(fd))
		}
		if strings.HasSuffix(name, ".attn.k.b") {
			if num > gcAbsTol || slices.ContainsFunc(a, func(v float64) bool { return math.Abs(v) > gcAbsTol }) {
				t.Errorf("%s: |analytic - fd| = %.3g, max |analytic| = %.3g; want both <= %g", name, num, slices.Max(a), gcAbsTol)
			}
			continue
		}
		if den < 1e-6 {
			t.Errorf("%s: finite-difference gradient is ~0 (max %.3g): the check is vacuous", name, den)
			continue
		}
		rel := num / den
		if rel > worst {
			worst, worstName = rel, name
		}
		if rel > gcRelTol {
			t.Errorf("%s: relative error %.3g > %g (max |fd| %.3g)", name, rel, gcRelTol, den)
		}
	}
	t.Logf("%d tensors; worst relative error %.3g (%s)", len(d.Names), worst, worstName)
	return worst
}

// TestAudioStudentLossGradient checks the speech model end to end: the conv
// feature encoder (strided convs, per-frame LayerNorm, GELU, LN, projection),
// the mask embedding, the grouped positional convolution with its
// parameter-free LayerNorm, the embedding LN, post-LN blocks and the loss,
// in the data2vec speech setting (FFN targets, instance norm, no final norm,
// L2 with the d2v reduction, EMA scope blocks).
func TestAudioStudentLossGradient(t *testing.T) {
	const samples = 22 // (22-4)/2+1 = 10 frames, then (10-3)/2+1 = 4 = gcT
	mod := model.Audio{Samples: samples, Conv: [][2]int{{4, 2}, {3, 2}}, ConvDim: 4, Dim: gcDim,
		PosWidth: 6, PosGroups: 2, PosDepth: 2, LNEps: 1e-5}
	if mod.NumTokens() != gcT {
		t.Fatalf("audio test model has %d frames, want %d", mod.NumTokens(), gcT)
	}
	s := Setup{Spec: model.Spec{Dim: gcDim, Depth: gcDepth, Heads: gcHeads, FFN: gcFFN, LNEps: 1e-5, HeadLayers: 1,
		InitStd: 0.3, EmbedLN: true}, Mod: mod, Batch: gcB, NMask: gcNMask, TargetLayer: "ffn", Scope: "blocks",
		Target: teacher.TargetSpec{TopK: 2, LayerNorm: teacher.NormInstance, Final: teacher.NormNone, Eps: 1e-5},
		Loss:   loss.Spec{Beta: 0, Reduction: loss.D2V}, Dtype: tensor.Float64}
	d, err := New(s)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	d.Init(3)
	gcPerturb(d, 3)
	r := rand.New(rand.NewPCG(3, 100))
	x := make([]float64, gcB*samples)
	for i := range x {
		x[i] = r.NormFloat64()
	}
	_, mask := gcBatch(false, r)
	y, err := d.Targets(x, mask)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"student.fe.conv.0.w", "student.fe.conv.1.ln.g", "student.fe.proj.w", "student.pos_conv.1.w", "student.pos_conv.0.b"} {
		if !slices.Contains(d.Names, want) {
			t.Fatalf("no trainable %s in %v", want, d.Names)
		}
	}
	if worst := gcCheck(t, d, x, mask, y); worst > gcRelTol {
		t.Errorf("worst relative error %.3g", worst)
	}
}

// gcPrepare builds a model, a batch and fixed targets; for smooth L1 it
// retries seeds until no |pred - target| is within 1e-4 of beta (the kink).
func gcPrepare(t *testing.T, c gcCase) (*D2V, []float64, []bool, any) {
	t.Helper()
	for seed := uint64(1); seed <= 20; seed++ {
		d := gcModel(t, c, seed)
		x, mask := gcBatch(c.tokens, rand.New(rand.NewPCG(seed, 1)))
		y, err := d.Targets(x, mask)
		if err != nil {
			t.Fatal(err)
		}
		y = slices.Clone(y.([]float64))
		out, err := d.StudentPass(x, mask, y)
		if err != nil {
			t.Fatal(err)
		}
		pred, tg := out.Pred.([]float64), y.([]float64)
		if len(pred) != gcB*gcNMask*gcDim || len(tg) != len(pred) {
			t.Fatalf("pred %d, targets %d values, want %d", len(pred), len(tg), gcB*gcNMask*gcDim)
		}
		want, err := d.Loss.Value(pred, tg, gcB*gcNMask, gcDim)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(out.Loss-want) > 1e-12*math.Max(1, math.Abs(want)) {
			t.Fatalf("graph loss %.17g, plain-Go loss %.17g", out.Loss, want)
		}
		kink := false
		for i := range pred {
			if c.beta > 0 && math.Abs(math.Abs(pred[i]-tg[i])-c.beta) < 1e-4 {
				kink = true
			}
		}
		if !kink {
			return d, x, mask, y
		}
		d.Close()
	}
	t.Fatal("every seed puts some |pred - target| at the smooth-L1 kink")
	return nil, nil, nil, nil
}

// TestParamCount checks the parameter count against the formula and that
// no two parameters (student, head or teacher) share a name.
func TestParamCount(t *testing.T) {
	const D, F, L, P, T, V = 8, 12, 3, 5, 6, 11
	for _, tokens := range []bool{false, true} {
		for _, pre := range []bool{true, false} {
			for _, head := range []int{1, 2} {
				for _, scope := range []string{"all", "blocks"} {
					name := fmt.Sprintf("tokens=%v/preln=%v/head%d/%s", tokens, pre, head, scope)
					t.Run(name, func(t *testing.T) {
						spec := model.Spec{Dim: D, Depth: L, Heads: 2, FFN: F, NormFirst: pre, LNEps: 1e-5,
							HeadLayers: head, LearnedPos: true, InitStd: 0.02}
						var mod model.Modality = model.Patches{T: T, PatchDim: P, Dim: D}
						embed := P*D + D
						if tokens {
							mod, embed = model.Tokens{T: T, Vocab: V, Dim: D}, V*D
						}
						d, err := New(Setup{Spec: spec, Mod: mod, Batch: 1, NMask: 2, TargetLayer: "block", Scope: scope,
							Target: teacher.TargetSpec{TopK: 2, LayerNorm: teacher.NormLayer, Final: teacher.NormNone, Eps: 1e-5},
							Loss:   loss.Spec{Reduction: loss.Mean}, Dtype: tensor.Float32})
						if err != nil {
							t.Fatal(err)
						}
						defer d.Close()
						block := 4*(D*D+D) + 2*D*F + F + D + 4*D
						enc := L * block
						if pre {
							enc += 2 * D
						}
						headN := D*D + D
						if head == 2 {
							headN = D*2*D + 2*D + 2*D*D + D
						}
						emb := embed + T*D + D // local encoder, pos, mask_emb
						if got, want := d.Student.Count(nil), emb+enc+headN; got != want {
							t.Errorf("student+head count %d, want %d", got, want)
						}
						isHead := func(n string) bool { return strings.HasPrefix(n, "head.") }
						if got := d.Student.Count(isHead); got != headN {
							t.Errorf("head count %d, want %d", got, headN)
						}
						wantTeacher := enc
						if scope == "all" {
							wantTeacher += emb
						}
						if got := d.Teacher.Count(nil); got != wantTeacher {
							t.Errorf("teacher count %d, want %d", got, wantTeacher)
						}
						seen := map[string]bool{}
						for _, n := range append(d.Student.Names(), d.Teacher.Names()...) {
							if seen[n] {
								t.Errorf("two parameters named %q", n)
							}
							seen[n] = true
						}
					})
				}
			}
		}
	}
}
