package train

import (
	"math"
	"testing"

	"gorgonia.org/tensor"

	"github.com/d2v/d2v/pkg/config"
	"github.com/d2v/d2v/pkg/model"
)

// TestAdamWHand runs two AdamW steps (lr 0.1, wd 0.01, betas 0.9/0.98, eps
// 1e-6) on one-element parameters with g1 = 0.5, g2 = -0.25, from p0 = 1.
//
// Step 1: m = 0.05, v = 0.005, bias corrections 0.1 and sqrt(0.02), so the
// step is 0.1/0.1 * 0.05/(sqrt(0.005/0.02) + 1e-6) = 0.05/0.500001.
// Decayed ".w": p1 = 1*(1-0.001) - 0.05/0.500001 = 0.8990001999996.
// Not decayed ".b": p1 = 1 - 0.05/0.500001 = 0.9000001999996.
// Step 2: m = 0.045-0.025 = 0.02, v = 0.0049+0.00125 = 0.00615,
// corrections 0.19 and sqrt(0.0396); step = 0.1/0.19 * 0.02/(sqrt(0.00615/0.0396)+1e-6)
// = 0.0267107036..., so ".w": p2 = 0.999*p1 - step = 0.87139049622327,
// ".b": p2 = p1 - step = 0.87328949642327.
func TestAdamWHand(t *testing.T) {
	tests := []struct {
		name   string
		param  string
		dt     tensor.Dtype
		coef   float64
		g1, g2 float64
		p1, p2 float64
		tol    float64
	}{
		{"decayed-w-f64", "x.w", tensor.Float64, 1, 0.5, -0.25, 0.8990001999995999, 0.8713904962232744, 1e-14},
		{"bias-not-decayed-f64", "x.b", tensor.Float64, 1, 0.5, -0.25, 0.9000001999995999, 0.8732894964232739, 1e-14},
		{"decayed-w-f32", "x.w", tensor.Float32, 1, 0.5, -0.25, 0.8990001999995999, 0.8713904962232744, 2e-7},
		{"bias-not-decayed-f32", "x.b", tensor.Float32, 1, 0.5, -0.25, 0.9000001999995999, 0.8732894964232739, 2e-7},
		// coef scales the raw gradient first: 2*0.25 and 2*-0.125 equal the case above.
		{"clip-coef-scales-grad", "x.w", tensor.Float64, 2, 0.25, -0.125, 0.8990001999995999, 0.8713904962232744, 1e-14},
		{"ln-gain-not-decayed", "ln.g", tensor.Float64, 1, 0.5, -0.25, 0.9000001999995999, 0.8732894964232739, 1e-14},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := model.NewParams(tt.dt)
			p.Add(tt.param, 1)
			if err := p.Set(tt.param, []float64{1}); err != nil {
				t.Fatal(err)
			}
			opt := NewAdamW(0.9, 0.98, 1e-6, 0.01, Decayed)
			grad := func(g float64) []any {
				if tt.dt == tensor.Float32 {
					return []any{[]float32{float32(g)}}
				}
				return []any{[]float64{g}}
			}
			opt.Step(p, []string{tt.param}, grad(tt.g1), 0.1, tt.coef)
			if got := p.Values(tt.param)[0]; math.Abs(got-tt.p1) > tt.tol {
				t.Fatalf("after step 1: %.17g, want %.17g", got, tt.p1)
			}
			opt.Step(p, []string{tt.param}, grad(tt.g2), 0.1, tt.coef)
			if got := p.Values(tt.param)[0]; math.Abs(got-tt.p2) > tt.tol {
				t.Fatalf("after step 2: %.17g, want %.17g", got, tt.p2)
			}
			if opt.T != 2 {
				t.Errorf("T = %d after two steps, want 2", opt.T)
			}
		})
	}
}

// TestAdamWMomentsByName swaps the parameter order between steps: the
// moments follow the names, so the result equals the in-order run.
func TestAdamWMomentsByName(t *testing.T) {
	run := func(swap bool) []float64 {
		p := model.NewParams(tensor.Float64)
		p.Add("a.w", 1)
		p.Add("b.b", 1)
		_ = p.Set("a.w", []float64{1})
		_ = p.Set("b.b", []float64{1})
		opt := NewAdamW(0.9, 0.98, 1e-6, 0.01, Decayed)
		opt.Step(p, []string{"a.w", "b.b"}, []any{[]float64{0.5}, []float64{3}}, 0.1, 1)
		if swap {
			opt.Step(p, []string{"b.b", "a.w"}, []any{[]float64{-1}, []float64{-0.25}}, 0.1, 1)
		} else {
			opt.Step(p, []string{"a.w", "b.b"}, []any{[]float64{-0.25}, []float64{-1}}, 0.1, 1)
		}
		return []float64{p.Values("a.w")[0], p.Values("b.b")[0]}
	}
	a, b := run(false), run(true)
	if a[0] != b[0] || a[1] != b[1] {
		t.Fatalf("order changed the result: %v vs %v", a, b)
	}
	if math.Abs(a[0]-0.8713904962232744) > 1e-14 {
		t.Fatalf("a.w = %.17g, want the hand value 0.8713904962232744", a[0])
	}
}

func TestDecayed(t *testing.T) {
	for name, want := range map[string]bool{
		"student.embed.w": true, "student.patch.w": true, "student.patch.b": false,
		"student.blocks.0.attn.q.w": true, "student.blocks.0.attn.q.b": false,
		"student.blocks.1.ffn.fc2.w": true, "student.blocks.0.ln1.g": false, "student.blocks.0.ln1.b": false,
		"student.final_ln.g": false, "student.pos": false, "student.mask_emb": false,
		"head.fc1.w": true, "head.fc2.b": false,
	} {
		if got := Decayed(name); got != want {
			t.Errorf("Decayed(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestClipCoef(t *testing.T) {
	tests := []struct {
		name            string
		norm, max, want float64
	}{
		{"below-max", 0.5, 1, 1},
		{"equal-max", 1, 1, 1 / (1 + 1e-6)},
		{"above-max", 4, 1, 1 / (4 + 1e-6)},
		{"above-max-2", 10, 2.5, 2.5 / (10 + 1e-6)},
		{"zero-norm", 0, 1, 1},
		{"max-zero-off", 100, 0, 1},
		{"max-negative-off", 100, -1, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ClipCoef(tt.norm, tt.max); math.Abs(got-tt.want) > 1e-15 {
				t.Fatalf("ClipCoef(%v, %v) = %.17g, want %.17g", tt.norm, tt.max, got, tt.want)
			}
		})
	}
}

func TestGradNorm(t *testing.T) {
	tests := []struct {
		name  string
		grads []any
		want  float64
	}{
		// sqrt(9 + 16 + 144) = 13, across tensors and dtypes
		{"mixed", []any{[]float64{3, 4}, []float32{12}}, 13},
		{"f32", []any{[]float32{1, 2, 2}}, 3},
		{"signs", []any{[]float64{-6}, []float64{}, []float64{8}}, 10},
		{"empty", nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := GradNorm(tt.grads); got != tt.want {
				t.Fatalf("GradNorm = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestLR(t *testing.T) {
	const peak, lo = 1e-3, 1e-5
	tests := []struct {
		name                string
		step, warmup, total int
		cosine              bool
		want                float64
	}{
		{"warmup-step0", 0, 10, 110, true, peak / 10},
		{"warmup-linear", 4, 10, 110, true, peak * 5 / 10},
		{"warmup-last", 9, 10, 110, true, peak},
		{"peak-at-warmup", 10, 10, 110, true, peak},
		{"cosine-quarter", 35, 10, 110, true, lo + 0.5*(peak-lo)*(1+math.Sqrt2/2)},
		{"cosine-midpoint", 60, 10, 110, true, (peak + lo) / 2},
		{"cosine-end", 110, 10, 110, true, lo},
		{"past-end-stays-min", 500, 10, 110, true, lo},
		{"no-warmup-step0", 0, 0, 100, true, peak},
		{"constant-after-warmup", 60, 10, 110, false, peak},
		{"constant-warmup", 4, 10, 110, false, peak * 5 / 10},
		{"total-within-warmup", 20, 10, 10, true, peak},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := LR(tt.step, tt.warmup, tt.total, peak, lo, tt.cosine)
			if math.Abs(got-tt.want) > 1e-15 {
				t.Fatalf("LR(%d, %d, %d) = %.17g, want %.17g", tt.step, tt.warmup, tt.total, got, tt.want)
			}
		})
	}
}

func TestTriStageLR(t *testing.T) {
	const peak, lo = 5e-4, 5e-4 * 0.05 // fairseq final_lr_scale 0.05
	// 100 steps: 3 warmup, 90 hold, 7 decay (the speech recipe's 3/90/7).
	for _, c := range []struct {
		step int
		want float64
	}{
		{0, peak / 3}, {2, peak}, {3, peak}, {92, peak},
		{93, peak * math.Pow(0.05, 1.0/7)}, {96, peak * math.Pow(0.05, 4.0/7)},
		{99, lo}, {150, lo},
	} {
		if got := TriStageLR(c.step, 3, 7, 100, peak, lo); math.Abs(got-c.want) > 1e-15 {
			t.Errorf("TriStageLR(step %d) = %.17g, want %.17g", c.step, got, c.want)
		}
	}
	if got := TriStageLR(6, 3, 7, 8, peak, lo); math.Abs(got-peak*math.Pow(0.05, 4.0/5)) > 1e-15 {
		t.Errorf("a run shorter than warmup + decay decays from the end of warmup: got %g", got)
	}
	if got := TriStageLR(96, 3, 7, 100, peak, 0); math.Abs(got-peak*3/7) > 1e-15 {
		t.Errorf("linear decay to 0: got %g, want %g", got, peak*3/7)
	}
	o := config.Default().Optim
	o.Schedule, o.WarmupSteps, o.DecaySteps = config.ScheduleTriStage, 3, 7
	if got, want := ScheduleLR(o, 95, 100), TriStageLR(95, 3, 7, 100, o.LR, o.MinLR); got != want {
		t.Errorf("ScheduleLR tri_stage = %g, want %g", got, want)
	}
	o.Schedule = config.ScheduleCosine
	if got, want := ScheduleLR(o, 50, 100), LR(50, 3, 100, o.LR, o.MinLR, true); got != want {
		t.Errorf("ScheduleLR cosine = %g, want %g", got, want)
	}
}
