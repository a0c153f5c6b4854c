package step

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"testing"
	"unsafe"

	"gorgonia.org/tensor"

	"github.com/d2v/d2v/internal/batchtest"
	"github.com/d2v/d2v/internal/par"
	"github.com/d2v/d2v/pkg/loss"
	"github.com/d2v/d2v/pkg/model"
	"github.com/d2v/d2v/pkg/teacher"
)

// splitBatch draws b samples of s's input and a mask with s.NMask masked
// positions per sample.
func splitBatch(s Setup, b int, r *rand.Rand) ([]float64, []bool) {
	return batchtest.Batch(s.Mod, s.NMask, b, r)
}

func splitAudioSetup() Setup {
	mod := model.Audio{Samples: 22, Conv: [][2]int{{4, 2}, {3, 2}}, ConvDim: 4, Dim: gcDim,
		PosWidth: 6, PosGroups: 2, PosDepth: 2, LNEps: 1e-5}
	return Setup{Spec: model.Spec{Dim: gcDim, Depth: gcDepth, Heads: gcHeads, FFN: gcFFN, LNEps: 1e-5, HeadLayers: 1,
		InitStd: 0.3, EmbedLN: true}, Mod: mod, Batch: gcB, NMask: gcNMask, TargetLayer: "ffn", Scope: "blocks",
		Target: teacher.TargetSpec{TopK: 2, LayerNorm: teacher.NormInstance, Final: teacher.NormNone, Eps: 1e-5},
		Loss:   loss.Spec{Beta: 0, Reduction: loss.D2V}, Dtype: tensor.Float64}
}

// TestBatchSplitIsTheSameStep: a batch run as 2 or 3 parts at once
// (run.batch_split) gives the loss, gradients, predictions and targets of
// the whole batch run as one, in float64 to rounding (1e-12), for token
// (also with text's KeepInput), patch and speech models, both EMA scopes,
// both losses, and parts of unequal size (5 samples in 2 and 3 parts).
func TestBatchSplitIsTheSameStep(t *testing.T) {
	setups := map[string]Setup{"audio": splitAudioSetup()}
	for _, c := range gcCases[:4] {
		setups[c.name()] = gcSetupFor(c)
	}
	setups["smoothl1/"+gcCases[4].name()] = gcSetupFor(gcCases[4])
	keep := gcSetupFor(gcCases[1]) // tokens: text's corrupted input, masked rows keep their embeddings
	keep.KeepInput = true
	setups["keepinput/"+gcCases[1].name()] = keep
	for name, s := range setups {
		for _, b := range []int{2, 5} {
			for _, parts := range []int{2, 3} {
				t.Run(fmt.Sprintf("%s/B%d/parts%d", name, b, parts), func(t *testing.T) {
					s.Batch = b
					whole, split := s, s
					whole.Parts, split.Parts = 1, parts
					var outs [2]*Output
					var ys [2][]float64
					x, mask := splitBatch(s, b, rand.New(rand.NewPCG(uint64(b), 4)))
					for i, st := range []Setup{whole, split} {
						d, err := New(st)
						if err != nil {
							t.Fatal(err)
						}
						defer d.Close()
						if got, want := d.parted != nil, i == 1 && min(parts, b) > 1; got != want {
							t.Fatalf("parts %d, batch %d: split %v, want %v", st.Parts, b, got, want)
						}
						d.Init(7)
						gcPerturb(d, 7)
						out, err := d.Forward(x, mask)
						if err != nil {
							t.Fatal(err)
						}
						outs[i] = out
						y, err := d.Targets(x, mask)
						if err != nil {
							t.Fatal(err)
						}
						ys[i] = slices.Clone(y.([]float64))
					}
					w, p := outs[0], outs[1]
					if r := math.Abs(p.Loss-w.Loss) / math.Abs(w.Loss); r > 1e-12 {
						t.Errorf("loss %.17g, whole batch %.17g (rel %.3g)", p.Loss, w.Loss, r)
					}
					for _, c := range []struct {
						what string
						a, b []float64
					}{
						{"predictions", p.Pred.([]float64), w.Pred.([]float64)},
						{"targets", p.Targets.([]float64), w.Targets.([]float64)},
						{"Targets()", ys[1], ys[0]},
					} {
						if len(c.a) != len(c.b) {
							t.Fatalf("%s: %d values, whole batch %d", c.what, len(c.a), len(c.b))
						}
						if r := maxRel(c.a, c.b); r > 1e-12 {
							t.Errorf("%s differ from the whole batch's by %.3g relative", c.what, r)
						}
					}
					// the key bias's gradient is zero up to rounding (softmax ignores a
					// per-row constant), so every tensor is compared on the scale of
					// the largest gradient entry
					var scale float64
					for _, g := range w.Grads {
						for _, v := range g.([]float64) {
							scale = math.Max(scale, math.Abs(v))
						}
					}
					for i := range w.Grads {
						a, b := p.Grads[i].([]float64), w.Grads[i].([]float64)
						for j := range b {
							if math.Abs(a[j]-b[j]) > 1e-12*scale {
								t.Errorf("gradient %d entry %d: %.17g, whole batch %.17g (largest entry %.3g)", i, j, a[j], b[j], scale)
								break
							}
						}
					}
				})
			}
		}
	}
}

// TestBatchSplitGradient: the finite-difference check of the whole
// student loss passes through a split model (StudentPass cut into parts).
func TestBatchSplitGradient(t *testing.T) {
	c := gcCases[5] // tokens, smooth L1, scope blocks
	s := gcSetupFor(c)
	s.Parts = 2
	d, err := New(s)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if d.parted == nil {
		t.Fatal("model is not split")
	}
	d.Init(11)
	gcPerturb(d, 11)
	x, mask := gcBatch(c.tokens, rand.New(rand.NewPCG(11, 1)))
	y, err := d.Targets(x, mask)
	if err != nil {
		t.Fatal(err)
	}
	y = slices.Clone(y.([]float64))
	if worst := gcCheck(t, d, x, mask, y); worst > gcRelTol {
		t.Errorf("worst relative error %.3g", worst)
	}
}

// TestBatchSplitDoesNotDependOnCores: float32 split steps give the same
// bits with one core or two (each op computes every element the same way
// whatever its worker count), and par.Share is undone after a pass.
func TestBatchSplitDoesNotDependOnCores(t *testing.T) {
	s := gcSetupFor(gcCases[0])
	s.Dtype, s.Batch, s.Parts = tensor.Float32, 4, 2
	x, mask := splitBatch(s, s.Batch, rand.New(rand.NewPCG(2, 2)))
	var loss [2]float64
	var grads [2][]float32
	for i, procs := range []int{1, 2} {
		func() {
			defer setProcs(procs)()
			d, err := New(s)
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			d.Init(3)
			before := par.Workers()
			out, err := d.Forward(x, mask)
			if err != nil {
				t.Fatal(err)
			}
			if par.Workers() != before {
				t.Fatalf("par.Workers() = %d after a split pass, %d before", par.Workers(), before)
			}
			loss[i] = out.Loss
			for _, g := range out.Grads {
				grads[i] = append(grads[i], g.([]float32)...)
			}
		}()
	}
	if loss[0] != loss[1] || !slices.Equal(grads[0], grads[1]) {
		t.Fatalf("1 core vs 2: loss %v vs %v, gradients equal: %v", loss[0], loss[1], slices.Equal(grads[0], grads[1]))
	}
}

// TestBatchSplitBadInput: inputs of the wrong size are refused before
// they are cut into parts, with the same messages as an unsplit model.
func TestBatchSplitBadInput(t *testing.T) {
	s := gcSetupFor(gcCases[0])
	s.Batch, s.Parts = 4, 2
	d, err := New(s)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	d.Init(1)
	x, mask := splitBatch(s, s.Batch, rand.New(rand.NewPCG(1, 1)))
	for _, c := range []struct {
		name string
		run  func() error
		want string
	}{
		{"short input", func() error { _, err := d.Forward(x[:len(x)-1], mask); return err }, "student input has"},
		{"short mask", func() error { _, err := d.Forward(x, mask[1:]); return err }, "mask has"},
		{"short targets", func() error { _, err := d.StudentPass(x, mask, []float64{1}); return err }, "targets has 1 values"},
		{"too many masked", func() error {
			m := slices.Clone(mask)
			for i := range m {
				m[i] = true
			}
			_, err := d.Forward(x, m)
			return err
		}, "masked positions"},
	} {
		err := c.run()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err %v, want one containing %q", c.name, err, c.want)
		}
	}
	if _, err := d.Forward(x, mask); err != nil {
		t.Fatalf("a good pass after the bad ones: %v", err)
	}
}

// setProcs sets GOMAXPROCS until the returned function restores it.
func setProcs(n int) (restore func()) {
	prev := runtime.GOMAXPROCS(n)
	return func() { runtime.GOMAXPROCS(prev) }
}

// TestGradientsAreSeparateBuffers: the gradients are read in place from
// the graph (no copy), so no two of them, and none of them and a
// parameter or the predictions, may share memory: an in-place change to
// one (the data-parallel average) would otherwise change another.
func TestGradientsAreSeparateBuffers(t *testing.T) {
	setups := map[string]Setup{"audio": splitAudioSetup()}
	for _, c := range gcCases {
		setups[c.name()] = gcSetupFor(c)
	}
	for name, s := range setups {
		for _, parts := range []int{1, 2} {
			s.Parts = parts
			d, err := New(s)
			if err != nil {
				t.Fatal(err)
			}
			d.Init(1)
			x, mask := splitBatch(s, s.Batch, rand.New(rand.NewPCG(1, 2)))
			out, err := d.Forward(x, mask)
			if err != nil {
				t.Fatal(err)
			}
			type span struct {
				what   string
				lo, hi uintptr
			}
			var spans []span
			add := func(what string, v []float64) {
				if len(v) > 0 {
					lo := uintptr(unsafe.Pointer(&v[0]))
					spans = append(spans, span{what, lo, lo + uintptr(len(v))*8})
				}
			}
			for i, g := range out.Grads {
				add("gradient "+d.Names[i], g.([]float64))
				add("parameter "+d.Names[i], d.Student.Get(d.Names[i]).Data().([]float64))
			}
			add("predictions", out.Pred.([]float64))
			for i := range spans {
				for j := range i {
					if spans[i].lo < spans[j].hi && spans[j].lo < spans[i].hi {
						t.Errorf("%s, %d parts: %s and %s share memory", name, parts, spans[i].what, spans[j].what)
					}
				}
			}
			d.Close()
		}
	}
}

// TestAudioTeacherFromStudentFeaturesIsExact: with scope blocks the speech
// teacher takes the student's conv features (ops.Emit) instead of
// recomputing them; ForwardPair must give the same bits as the teacher's
// own graph (Targets) followed by StudentPass, whole and split, in float64
// and float32, and a failing pass must not leave the next one waiting.
func TestAudioTeacherFromStudentFeaturesIsExact(t *testing.T) {
	for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
		for _, parts := range []int{1, 2} {
			s := splitAudioSetup()
			s.Dtype, s.Batch, s.Parts = dt, 4, parts
			d, err := New(s)
			if err != nil {
				t.Fatal(err)
			}
			parts0 := []*D2V{d}
			if d.parted != nil {
				parts0 = d.parted.parts
			}
			for _, p := range parts0 {
				if p.featureTeacher == nil {
					t.Fatalf("%v parts=%d: no teacher-from-features graph", dt, parts)
				}
			}
			d.Init(5)
			if dt == tensor.Float64 {
				gcPerturb(d, 5)
			}
			x64, mask := splitBatch(s, s.Batch, rand.New(rand.NewPCG(5, 5)))
			var x any = x64
			if dt == tensor.Float32 {
				x32 := make([]float32, len(x64))
				for i, v := range x64 {
					x32[i] = float32(v)
				}
				x = x32
			}
			y, err := d.Targets(x, mask)
			if err != nil {
				t.Fatal(err)
			}
			y = cloneAny(y)
			seq, err := d.StudentPass(x, mask, y)
			if err != nil {
				t.Fatal(err)
			}
			want, wantP := seq.Loss, cloneAny(seq.Pred)
			wantG := make([]any, len(seq.Grads))
			for i, g := range seq.Grads {
				wantG[i] = cloneAny(g)
			}
			for run := 0; run < 2; run++ {
				out, err := d.ForwardPair(x, x, mask)
				if err != nil {
					t.Fatal(err)
				}
				if out.Loss != want || !equalAny(out.Targets, y) || !equalAny(out.Pred, wantP) {
					t.Fatalf("%v parts=%d run %d: shared-features pass differs (loss %v vs %v)", dt, parts, run, out.Loss, want)
				}
				for i, g := range out.Grads {
					if !equalAny(g, wantG[i]) {
						t.Fatalf("%v parts=%d run %d: gradient of %s differs", dt, parts, run, d.Names[i])
					}
				}
			}
			bad := mask[:len(mask)-1]
			if _, err := d.ForwardPair(x, x, bad); err == nil {
				t.Fatalf("%v parts=%d: a short mask was accepted", dt, parts)
			}
			if out, err := d.ForwardPair(x, x, mask); err != nil || out.Loss != want {
				t.Fatalf("%v parts=%d: the pass after a failed one: loss %v (want %v), err %v", dt, parts, out.Loss, want, err)
			}
			d.Close()
		}
	}
}

func cloneAny(v any) any {
	switch x := v.(type) {
	case []float32:
		return slices.Clone(x)
	case []float64:
		return slices.Clone(x)
	}
	return nil
}

func equalAny(a, b any) bool {
	switch x := a.(type) {
	case []float32:
		y, ok := b.([]float32)
		return ok && slices.Equal(x, y)
	case []float64:
		y, ok := b.([]float64)
		return ok && slices.Equal(x, y)
	}
	return false
}

// maxRel is max |got-want| / max |want| (the parity tests' measure).
func maxRel(got, want []float64) float64 {
	var num, den float64
	for i := range want {
		num = math.Max(num, math.Abs(got[i]-want[i]))
		den = math.Max(den, math.Abs(want[i]))
	}
	return num / math.Max(den, 1e-30)
}
