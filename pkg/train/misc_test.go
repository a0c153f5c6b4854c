package train

import (
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
