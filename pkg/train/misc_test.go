package train

import (
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/d2v/d2v/pkg/config"
	"github.com/d2v/d2v/pkg/step"
)

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

// TestStepFLOPs checks the FLOP count against the performance issue's figure
// for config S (1.77 GFLOP, counted by hand from ref_step.py's matmuls).
func TestStepFLOPs(t *testing.T) {
	cfg, err := config.Load("../../configs/bench-s.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	got := StepFLOPs(step.SetupFor(cfg, cfg.Data.BatchSize)) / 1e9
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
	s := step.SetupFor(cfg, cfg.Data.BatchSize)
	if got, want := SkippedFLOPs(s), 3.0*256*360448; got != want {
		t.Fatalf("S: %v FLOPs skipped, want %v", got, want)
	}
	s.NMask = s.Mod.NumTokens()
	if got := SkippedFLOPs(s); got != 0 {
		t.Fatalf("every row masked: %v FLOPs skipped, want 0", got)
	}
}
