package train_test

import (
	"fmt"
	"maps"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/d2v/d2v/internal/fixture"
	"github.com/d2v/d2v/pkg/checkpoint"

	"github.com/d2v/d2v/pkg/step"
	"github.com/d2v/d2v/pkg/teacher"
	"github.com/d2v/d2v/pkg/train"
)

// parityTolAfter2 is the relative error allowed on a data2vec 2.0
// fixture's weights after its last step (the 1e-4): AdamW divides
// each gradient by its own running magnitude, so an element whose gradient
// is a small difference of large terms (a relative error of 3e-4 on one
// decoder weight's step-3 gradient, 1e-6 of the tensor's largest) moves
// by lr in a float32-rounding-dependent direction. We measure 3.5e-5
// (student, d2v2_tokens_1d) and 4.3e-5 (teacher, which follows it).
const parityTolAfter2 = 1e-4

// replay2 is replay for a data2vec 2.0 fixture: it also checks the full
// targets, the student's outputs on the visible tokens, the CLS loss, its
// predictions and targets, and the decoder's gradients and weights.
func replay2(t *testing.T, fx *fixture.Fixture) {
	path := fx.Path
	d, err := step.New2(fx.Setup2)
	if err != nil {
		t.Fatalf("%s: cannot build: %v", path, err)
	}
	defer d.Close()
	if err := fx.Load2(d, "init."); err != nil {
		t.Fatal(err)
	}
	if err := fx.CheckDecayed(d.Names, train.Decayed2); err != nil {
		t.Fatal(err)
	}
	opt := train.NewAdamW(0.9, 0.98, 1e-6, fx.WD, train.Decayed2)
	worst := map[string]float64{}
	check := func(what string, got any, ref string) {
		t.Helper()
		want, err := fx.Float64s(ref)
		if err != nil {
			t.Fatal(err)
		}
		g := fixture.Float64s(got)
		if len(g) != len(want) {
			t.Fatalf("%s: %d values, fixture %s has %d", what, len(g), ref, len(want))
		}
		e := fixture.MaxRel(g, want)
		if strings.HasSuffix(ref, "attn.k.b") { // mathematically zero: float noise only
			e = fixture.MaxAbs(g, want)
		}
		worst[what] = math.Max(worst[what], e)
		tol := parityTol
		if strings.HasPrefix(what, "after.") {
			tol = parityTolAfter2
		}
		if e > tol {
			t.Errorf("%s: rel err %.3g > %g against %s", what, e, tol, ref)
		}
	}
	for s := 1; s <= fx.Steps; s++ {
		x, mask, err := fx.Batch(s)
		if err != nil {
			t.Fatal(err)
		}
		out, err := d.Forward2(x, mask)
		if err != nil {
			t.Fatal(err)
		}
		o := func(n string) string { return fmt.Sprintf("out.%d.%s", s, n) }
		check("loss", []float64{out.Loss}, o("loss"))
		check("loss_reg", []float64{out.LossReg}, o("loss_reg"))
		check("targets_full", out.TargetsFull, o("targets_full"))
		check("targets", out.Targets, o("targets"))
		check("student_out", out.StudentOut, o("student_out"))
		check("pred", out.Pred, o("pred"))
		if fx.Setup2.CLS {
			check("loss_cls", []float64{out.LossCLS}, o("loss_cls"))
			check("cls_pred", out.CLSPred, o("cls_pred"))
			check("cls_target", out.CLSTarget, o("cls_target"))
		}
		for i, n := range d.Names {
			what := "grads.student"
			if strings.HasPrefix(n, "decoder.") {
				what = "grads.decoder"
			}
			check(what, out.Grads[i], fmt.Sprintf("grad.%d.%s", s, n))
		}
		norm := train.GradNorm(out.Grads)
		check("grad_norm", []float64{norm}, o("grad_norm"))
		opt.Step(d.Student, d.Names, out.Grads, fx.LR, train.ClipCoef(norm, fx.Clip))
		dec := teacher.Decay(fx.EMAStart, fx.EMAEnd, s, fx.EMAAnneal)
		check("ema_decay", []float64{dec}, fmt.Sprintf("ema.%d.decay", s))
		d.EMA(dec)
	}
	for _, n := range d.Names {
		check("after.student", d.Student.Values(n), "after."+n)
	}
	for _, n := range d.Teacher.Names() {
		check("after.teacher", d.Teacher.Values(n), "after."+n)
	}
	t.Logf("worst relative errors: %v", worst)
}

// TestParity2UnsupportedSettingFails: a data2vec 2.0 fixture asking for
// something we cannot build is an error naming the setting, never a skip.
func TestParity2UnsupportedSettingFails(t *testing.T) {
	src := filepath.Join("testdata", "parity", "d2v2_tokens_1d.safetensors")
	f, err := checkpoint.Read(src)
	if err != nil {
		t.Fatal(err)
	}
	for key, val := range map[string]string{"decoder": "3d", "reduction": "mean", "dec_residual": "sometimes",
		"decoder_mask_fill": "fresh noise", "sample_size": "47", "method": "data2vec3"} {
		meta := maps.Clone(f.Meta)
		meta[key] = val
		var ts []checkpoint.Tensor
		for _, n := range f.Order {
			ts = append(ts, f.Tensors[n])
		}
		path := filepath.Join(t.TempDir(), "bad.safetensors")
		if err := checkpoint.Write(path, ts, meta); err != nil {
			t.Fatal(err)
		}
		_, err := fixture.Read(path)
		if err == nil || !strings.Contains(err.Error(), key+"=") {
			t.Errorf("%s=%s: got %v, want an error naming the setting", key, val, err)
		}
	}
}
