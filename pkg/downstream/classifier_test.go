package downstream

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"github.com/d2v/d2v/internal/batchtest"
	"github.com/d2v/d2v/pkg/loss"
	"github.com/d2v/d2v/pkg/model"
	"github.com/d2v/d2v/pkg/step"
	"github.com/d2v/d2v/pkg/teacher"
)

// testSetup is the train package's gradient-check setting for its first
// two cases (patches with block targets and full EMA; tokens with FFN
// targets and EMA of the blocks), float32: the classifier reads the spec,
// the modality, the dtype and Parts.
func testSetup(tokens bool) step.Setup {
	const T, dim = 4, 8
	spec := model.Spec{Dim: dim, Depth: 2, Heads: 2, FFN: 12, LNEps: 1e-5, HeadLayers: 1, LearnedPos: true, InitStd: 0.3}
	var mod model.Modality = model.Patches{T: T, PatchDim: 3, Dim: dim}
	target := teacher.TargetSpec{TopK: 2, LayerNorm: teacher.NormLayer, Final: teacher.NormLayer, Eps: 1e-5}
	layer, scope := "block", "all"
	if tokens {
		spec.HeadLayers, mod = 2, model.Tokens{T: T, Vocab: 7, Dim: dim}
		target.LayerNorm, target.Final, layer, scope = teacher.NormInstance, teacher.NormNone, "ffn", "blocks"
	}
	return step.Setup{Spec: spec, Mod: mod, Batch: 2, NMask: 2, TargetLayer: layer, Scope: scope, Target: target,
		Loss: loss.Spec{Beta: 0, Reduction: loss.D2V}, Dtype: tensor.Float64}
}

// splitBatch draws b samples of s's input and a mask with s.NMask masked
// positions per sample.
func splitBatch(s step.Setup, b int, r *rand.Rand) ([]float64, []bool) {
	return batchtest.Batch(s.Mod, s.NMask, b, r)
}

// TestEncoderSplitIsTheSameBatch: the downstream encoder (fine-tuning and
// evaluation, float32 only) run as 2 or 3 parts gives the whole batch's
// features, logits, loss and gradients to float32 rounding (1e-5 of the
// largest value), training and not.
func TestEncoderSplitIsTheSameBatch(t *testing.T) {
	const B, C = 5, 3
	for _, tokens := range []bool{false, true} {
		s := testSetup(tokens)
		s.Dtype = tensor.Float32
		r := rand.New(rand.NewPCG(9, 9))
		x, _ := splitBatch(s, B, r)
		w := make([]float32, B*s.Mod.NumTokens())
		for i := range w {
			w[i] = float32(1 + i%3) // uneven pooling weights
		}
		y := make([]float64, B*C)
		for i := 0; i < B; i++ {
			y[i*C+r.IntN(C)] = 1
		}
		for _, training := range []bool{true, false} {
			for _, parts := range []int{2, 3} {
				type res struct {
					feats, logits []float32
					loss          float64
					grads         []float32
				}
				var got [2]res
				for i, n := range []int{1, parts} {
					s.Parts = n
					p := ClassifierParams(s, C)
					step.InitEncoder(p, s, 4)
					rr := rand.New(rand.NewPCG(4, 4))
					for _, name := range p.Names() {
						if strings.HasPrefix(name, "cls.") {
							v := p.Data(name).([]float32)
							for j := range v {
								v[j] += float32(0.3 * rr.NormFloat64())
							}
						}
					}
					e, err := NewClassifier(s, p, B, C, training)
					if err != nil {
						t.Fatal(err)
					}
					if (e.parted != nil) != (n > 1) {
						t.Fatalf("parts %d: split %v", n, e.parted != nil)
					}
					var yt []float64
					if training {
						yt = y
					}
					f, l, loss, g, err := e.Run(x, w, yt)
					if err != nil {
						t.Fatal(err)
					}
					got[i] = res{slices.Clone(f), slices.Clone(l), loss, nil}
					for _, gi := range g {
						got[i].grads = append(got[i].grads, gi.([]float32)...)
					}
					e.Close()
				}
				name := fmt.Sprintf("%s train=%v parts=%d", s.Mod.Name(), training, parts)
				for _, v := range []struct {
					what string
					a, b []float32
				}{{"features", got[1].feats, got[0].feats}, {"logits", got[1].logits, got[0].logits}, {"gradients", got[1].grads, got[0].grads}} {
					if len(v.a) != len(v.b) || (len(v.b) == 0 && (v.what != "gradients" || training)) {
						t.Fatalf("%s: %s have %d values, whole batch %d", name, v.what, len(v.a), len(v.b))
					}
					var scale float64
					for _, u := range v.b {
						scale = math.Max(scale, math.Abs(float64(u)))
					}
					for j := range v.b {
						if math.Abs(float64(v.a[j]-v.b[j])) > 1e-5*scale {
							t.Fatalf("%s: %s[%d] = %v, whole batch %v (largest %v)", name, v.what, j, v.a[j], v.b[j], scale)
						}
					}
				}
				if math.Abs(got[1].loss-got[0].loss) > 1e-6*math.Max(1, math.Abs(got[0].loss)) {
					t.Errorf("%s: loss %.17g, whole batch %.17g", name, got[1].loss, got[0].loss)
				}
			}
		}
	}
}
