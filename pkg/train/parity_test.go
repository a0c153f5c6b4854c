package train_test

import (
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/d2v/d2v/internal/fixture"
	"github.com/d2v/d2v/pkg/checkpoint"
	"github.com/d2v/d2v/pkg/step"
	"github.com/d2v/d2v/pkg/teacher"
	"github.com/d2v/d2v/pkg/train"
)

// parityTol is the relative error allowed against the PyTorch fixtures
// (max |a-b| / max |b| over a tensor); the issue asks for 1e-4, we see ~2e-6.
const parityTol = 2e-5

// TestParity replays every reference fixture in testdata/parity (or
// $D2V_PARITY_DIR), data2vec 1 or 2.0 as its metadata's method says
// (replay2 for data2vec2): same init, batches and masks; checks each
// step's loss, targets, predictions, raw gradients, grad norm and EMA
// decay, and the student, head (or decoder) and teacher weights after the
// last step.
func TestParity(t *testing.T) {
	dir := os.Getenv("D2V_PARITY_DIR")
	if dir == "" {
		dir = filepath.Join("testdata", "parity")
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.safetensors"))
	if len(files) == 0 {
		t.Fatalf("no *.safetensors fixtures in %s", dir)
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".safetensors"), func(t *testing.T) { replay(t, f) })
	}
}

func replay(t *testing.T, path string) {
	fx, err := fixture.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if fx.Method == "data2vec2" {
		replay2(t, fx)
		return
	}
	d, err := step.New(fx.Setup)
	if err != nil {
		t.Fatalf("%s: cannot build: %v", path, err)
	}
	defer d.Close()
	if err := fx.Load(d, "init."); err != nil {
		t.Fatal(err)
	}
	opt := train.NewAdamW(0.9, 0.98, 1e-6, fx.WD, train.Decayed)
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
		if e > parityTol {
			t.Errorf("%s: rel err %.3g > %g against %s", what, e, parityTol, ref)
		}
	}
	for s := 1; s <= fx.Steps; s++ {
		x, mask, err := fx.Batch(s)
		if err != nil {
			t.Fatal(err)
		}
		out, err := d.Forward(x, mask)
		if err != nil {
			t.Fatal(err)
		}
		check("loss", []float64{out.Loss}, fmt.Sprintf("out.%d.loss", s))
		check("targets", out.Targets, fmt.Sprintf("out.%d.targets", s))
		check("pred", out.Pred, fmt.Sprintf("out.%d.pred", s))
		for i, n := range d.Names {
			check("grads", out.Grads[i], fmt.Sprintf("grad.%d.%s", s, n))
		}
		norm := train.GradNorm(out.Grads)
		check("grad_norm", []float64{norm}, fmt.Sprintf("out.%d.grad_norm", s))
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

// TestParityUnsupportedSettingFails: a fixture asking for something we cannot
// build is an error naming the setting, never a skip.
func TestParityUnsupportedSettingFails(t *testing.T) {
	src := filepath.Join("testdata", "parity", "public_tokens_preln.safetensors")
	f, err := checkpoint.Read(src)
	if err != nil {
		t.Fatal(err)
	}
	for key, val := range map[string]string{"input": "audio", "layer_norm_targets": "batch", "ema_scope": "teacher-only"} {
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
		if err == nil || !strings.Contains(err.Error(), key+"=") || !strings.Contains(err.Error(), "unsupported setting") {
			t.Errorf("%s=%s: got %v, want an error naming the setting", key, val, err)
		}
	}
}
