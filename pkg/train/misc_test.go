package train

import (
	"github.com/d2v/d2v/pkg/config"
	"math"
	"os"
	"path/filepath"
	"testing"
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

func TestMetricsTruncate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "metrics.jsonl")
	// two good lines, one past the checkpoint, and a torn line from a killed run
	body := `{"step":10,"loss":1}` + "\n" + `{"step":20,"loss":0.5}` + "\n" + `{"step":30,"loss":0.4}` + "\n" + `{"step":4`
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	m := &Metrics{Path: path}
	if err := m.Truncate(20); err != nil {
		t.Fatal(err)
	}
	if len(m.All) != 2 || m.All[1].Step != 20 {
		t.Fatalf("kept %+v", m.All)
	}
	b, _ := os.ReadFile(path)
	if want := `{"step":10,"loss":1}` + "\n" + `{"step":20,"loss":0.5}` + "\n"; string(b) != want {
		t.Fatalf("file now %q", b)
	}
	if err := m.Append(Metric{Step: 30, Loss: 0.3}); err != nil {
		t.Fatal(err)
	}
	if len(m.All) != 3 {
		t.Fatal("append did not record the metric")
	}
}

// TestRandomInitBaselineIsStepZero: `d2v eval --random-init` evaluates
// exactly the encoder a pretraining run with the same seed starts from.
func TestRandomInitBaselineIsStepZero(t *testing.T) {
	cfg := tinyConfig(t)
	s := SetupFor(cfg, 2)
	d, err := New(s)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	d.Init(7)
	p := EncoderParams(s, 3)
	InitEncoder(p, s, 7)
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

func headNames(d *D2V) []string {
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

// TestStepFLOPs checks the FLOP count against the performance issue's figure
// for config S (1.77 GFLOP, counted by hand from ref_step.py's matmuls).
func TestStepFLOPs(t *testing.T) {
	cfg, err := config.Load("../../configs/bench-s.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	got := StepFLOPs(SetupFor(cfg, cfg.Data.BatchSize)) / 1e9
	if math.Abs(got-1.77) > 0.005 {
		t.Fatalf("S: %.4f GFLOP per step, want 1.77", got)
	}
}

// TestSkippedFLOPs: at S the student's last block skips, per unmasked row
// (8 samples x 32 of 64), Q and O (2 x 2*128^2), the FFN (2 x 2*128*512)
// and the attention row (2 x 2*64*128), forward and backward (3x):
// 3*256*360448 = 276.8 MFLOP; nothing when every row is masked.
func TestSkippedFLOPs(t *testing.T) {
	cfg, err := config.Load("../../configs/bench-s.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	s := SetupFor(cfg, cfg.Data.BatchSize)
	if got, want := SkippedFLOPs(s), 3.0*256*360448; got != want {
		t.Fatalf("S: %v FLOPs skipped, want %v", got, want)
	}
	s.NMask = s.Mod.NumTokens()
	if got := SkippedFLOPs(s); got != 0 {
		t.Fatalf("every row masked: %v FLOPs skipped, want 0", got)
	}
}
