package downstream

import (
	"math"
	"slices"
	"testing"

	"github.com/d2v/d2v/pkg/config"
	"github.com/d2v/d2v/pkg/data"
	"github.com/d2v/d2v/pkg/step"
)

func TestLayerScale(t *testing.T) {
	const depth = 4
	tests := []struct {
		name string
		id   int
	}{
		{"student.patch.w", 0}, {"student.pos", 0}, {"student.mask_emb", 0},
		{"student.blocks.0.attn.q.w", 1}, {"student.blocks.3.ffn.fc2.b", 4},
		{"student.final_ln.g", 5}, {"cls.fc.w", 5}, {"cls.norm.b", 5},
	}
	scale := LayerScale(0.5, depth)
	for _, tt := range tests {
		if got := LayerID(tt.name, depth); got != tt.id {
			t.Errorf("LayerID(%s) = %d, want %d", tt.name, got, tt.id)
		}
		if got, want := scale(tt.name), math.Pow(0.5, float64(depth+1-tt.id)); got != want {
			t.Errorf("scale(%s) = %g, want %g", tt.name, got, want)
		}
	}
	if LayerScale(1, depth)("student.patch.w") != 1 {
		t.Error("layer decay 1 must leave every lr unchanged")
	}
}

// TestRandomInitBaselineIsStepZero: `d2v eval --random-init` evaluates
// exactly the encoder a pretraining run with the same seed starts from.
func TestRandomInitBaselineIsStepZero(t *testing.T) {
	cfg := tinyConfig(t)
	s := step.SetupFor(cfg, 2)
	d, err := step.New(s)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	d.Init(7)
	p := ClassifierParams(s, 3)
	step.InitEncoder(p, s, 7)
	n := 0
	for _, name := range p.Names() {
		if d.Student.Get(name) == nil {
			continue // cls.* exist only downstream
		}
		a, b := d.Student.Values(name), p.Values(name)
		for i := range a {
			if a[i] != b[i] {
				t.Fatalf("%s[%d]: pretraining init %v, baseline %v", name, i, a[i], b[i])
			}
		}
		n++
	}
	if n == 0 || n != d.Student.Len()-len(headNames(d)) {
		t.Fatalf("compared %d tensors", n)
	}
}

func headNames(d *step.D2V) []string {
	var out []string
	for _, n := range d.Names {
		if len(n) > 5 && n[:5] == "head." {
			out = append(out, n)
		}
	}
	return out
}

func tinyConfig(t *testing.T) *config.Config {
	t.Helper()
	cfg, err := config.Load("../../configs/tiny.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// Fine-tuning's augmented inputs: a crop changes the view, the view is a
// pure function of (seed, step, position), a carved split augments the rows
// it maps to, and with the augmentation off the view is the plain input.
func TestFinetuneAugmentedInputs(t *testing.T) {
	trainSet, _, _ := smallTask(t, 120)
	idx := []int{3, 17, 40}
	plain, _ := trainSet.Inputs(idx)
	p := slices.Clone(plain.([]float32))
	off, w := trainSet.Augmented(data.AugmentSpec{}, idx, 1, 5)
	if !slices.Equal(off.([]float32), p) || len(w) != len(p)/16 {
		t.Fatalf("augmentation off: view differs from the plain input (or %d pooling weights for %d values)", len(w), len(p))
	}
	spec := data.AugmentSpec{Crop: true, ScaleMin: 0.5, ScaleMax: 0.6, RatioMin: 1, RatioMax: 1}
	a1, _ := trainSet.Augmented(spec, idx, 1, 5)
	v1 := slices.Clone(a1.([]float32))
	if slices.Equal(v1, p) {
		t.Error("a crop of half the area left the images unchanged")
	}
	a2, _ := trainSet.Augmented(spec, idx, 1, 5)
	if !slices.Equal(a2.([]float32), v1) {
		t.Error("the same (seed, step) drew another view")
	}
	a3, _ := trainSet.Augmented(spec, idx, 1, 6)
	if slices.Equal(a3.([]float32), v1) {
		t.Error("the next step drew the same view")
	}
	fit, _, err := trainSet.Carve(ValFrac)
	if err != nil {
		t.Fatal(err)
	}
	// fit row i is train row i for the rows before the first held-out one
	c, _ := fit.Augmented(spec, []int{0, 1}, 1, 5)
	d, _ := trainSet.Augmented(spec, []int{0, 1}, 1, 5)
	if !slices.Equal(c.([]float32), d.([]float32)) {
		t.Error("the carved fit split augments other rows than it maps to")
	}
}

// FinetuneScale: the layer decay, with every encoder weight frozen (factor 0)
// and the head at full lr with headOnly.
func TestFinetuneScaleHeadOnly(t *testing.T) {
	f := FinetuneScale(0.5, 4, true)
	if f("student.blocks.0.attn.qkv.w") != 0 || f("student.patch.w") != 0 || f("cls.fc.w") != 1 || f("cls.norm.g") != 1 {
		t.Errorf("head-only scales: block0 %g, embedding %g, head %g/%g", f("student.blocks.0.attn.qkv.w"), f("student.patch.w"), f("cls.fc.w"), f("cls.norm.g"))
	}
	f = FinetuneScale(0.5, 4, false)
	layer := LayerScale(0.5, 4)
	for _, n := range []string{"student.blocks.0.attn.qkv.w", "student.patch.w", "cls.fc.w", "student.final_ln.g"} {
		if f(n) != layer(n) {
			t.Errorf("%s: scale %g after the head phase, layer decay %g", n, f(n), layer(n))
		}
	}
	if layer("student.blocks.0.attn.qkv.w") != 0.0625 {
		t.Errorf("block 0 at depth 4, decay 0.5: %g, want 0.5^4", layer("student.blocks.0.attn.qkv.w"))
	}
}
