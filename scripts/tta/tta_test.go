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

// measure resumes: a finished pretraining run (its record and checkpoint) is
// not pretrained again, a finished evaluation is read back, and another
// -eval-name measures the same checkpoint again. A fake d2v logs its calls.
func TestMeasureResumes(t *testing.T) {
	dir := t.TempDir()
	calls := filepath.Join(dir, "calls")
	fake := filepath.Join(dir, "d2v")
	script := `#!/bin/sh
echo "$1" >> ` + calls + `
out=""; prev=""
for a in "$@"; do [ "$prev" = "--out" ] && out="$a"; prev="$a"; done
if [ "$1" = eval ]; then
  mkdir -p "$out"
  echo '{"rows": [{"features": "encoder", "source": "c", "linear_probe": {"accuracy": 0.95}, "knn": {"accuracy": 0.9}}]}' > "$out/eval.json"
fi
`
	if err := os.WriteFile(fake, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	o := &options{d2v: fake, data: "data/mnist", out: dir, evalName: "eval"}
	r := recipe{"v2", "c.yaml"}
	run := filepath.Join(dir, "v2-1min")
	if err := os.MkdirAll(run, 0o755); err != nil {
		t.Fatal(err)
	}
	ckpt := filepath.Join(run, "ckpt-00000100.safetensors")
	if err := os.WriteFile(ckpt, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := writeJSON(filepath.Join(run, "tta-timing.json"), point{Steps: 100, WallS: 60, CPUS: 100, Checkpoint: ckpt}); err != nil {
		t.Fatal(err)
	}
	for i, evalName := range []string{"eval", "eval", "eval-g4"} {
		o.evalName = evalName
		p, err := measure(o, r, 1, 100, false)
		if err != nil {
			t.Fatalf("measure %d: %v", i, err)
		}
		if p.Steps != 100 || p.WallS != 60 || p.Probe != 95 || p.KNN != 90 || p.Recipe != "v2" {
			t.Fatalf("measure %d: %+v", i, p)
		}
	}
	b, _ := os.ReadFile(calls)
	if got := strings.Fields(string(b)); strings.Join(got, ",") != "eval,eval" {
		t.Errorf("d2v calls %v, want eval (once per eval name) and no pretrain", got)
	}
	if _, err := os.Stat(filepath.Join(run, "eval-g4", "eval.json")); err != nil {
		t.Error(err)
	}
}
