package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// readEval takes each row of a d2v eval.json to its column; the table and
// the plot show every recipe, its random init and the raw pixels.
func TestReadEvalTablePlot(t *testing.T) {
	dir := t.TempDir()
	ev := filepath.Join(dir, "eval.json")
	js := `{"rows": [
	  {"features": "encoder", "source": "c", "linear_probe": {"accuracy": 0.9512}, "knn": {"accuracy": 0.9}},
	  {"features": "random_init", "source": "random init (seed 0)", "linear_probe": {"accuracy": 0.7}, "knn": {"accuracy": 0.6}},
	  {"features": "raw", "source": "pixels", "linear_probe": {"accuracy": 0.92}, "knn": {"accuracy": 0.97}}]}`
	if err := os.WriteFile(ev, []byte(js), 0o644); err != nil {
		t.Fatal(err)
	}
	p := point{Recipe: "data2vec", BudgetMin: 1, Steps: 100, WallS: 61, CPUS: 110}
	if err := readEval(ev, &p); err != nil {
		t.Fatal(err)
	}
	if p.Probe != 95.12 || p.KNN != 90 || p.RandomProbe != 70 || p.RawKNN != 97 {
		t.Fatalf("read %+v", p)
	}
	q := point{Recipe: "data2vec", BudgetMin: 3, Steps: 300, WallS: 185, CPUS: 350, Probe: 96, KNN: 93}
	md := table([]point{p, q})
	for _, want := range []string{"| data2vec | 3 | 300 | 185 | 350 | 96.00% | 93.00% |", "| data2vec random init (step 0) |", "| raw pixels | - | - | - | - | 92.00% | 97.00% |"} {
		if !strings.Contains(md, want) {
			t.Errorf("table lacks %q:\n%s", want, md)
		}
	}
	png := filepath.Join(dir, "tta.png")
	if err := plotPoints(png, []point{p, q}); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(png); err != nil || st.Size() < 1000 {
		t.Errorf("tta.png: %v", err)
	}
	if err := os.WriteFile(ev, []byte(`{"rows": []}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := readEval(ev, &p); err == nil {
		t.Error("an eval.json without rows: no error")
	}
}
