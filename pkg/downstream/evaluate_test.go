package downstream

import (
	"math"
	"reflect"
	"slices"
	"testing"

	"github.com/d2v/d2v/pkg/config"
	"github.com/d2v/d2v/pkg/step"
)

// smallTask is the embedded image task cut to n train and n test images.
func smallTask(t *testing.T, n int) (*Labelled, *Labelled, step.Setup) {
	t.Helper()
	cfg := config.Default()
	cfg.Model.Dim, cfg.Model.Heads, cfg.Model.FFNDim, cfg.Model.Depth = 16, 2, 32, 1
	trainSet, test, s, err := LoadTask(cfg, EvalBatch)
	if err != nil {
		t.Fatal(err)
	}
	return trainSet.Limit(n), test.Limit(n), s
}

// The raw row goes through the same probe and k-NN as the encoder's: raw
// features equal to the encoder's give the identical row.
func TestEvalRowsSameProtocol(t *testing.T) {
	trainSet, test, s := smallTask(t, 300)
	enc, err := encoderRow(s, Weights{Seed: 3}, trainSet, test, EvalOptions{K: 5, Layers: 1, Grid: 1}, &testWriter{t})
	if err != nil {
		t.Fatal(err)
	}
	for _, sp := range []*Labelled{trainSet, test} {
		p := ClassifierParams(s, 0)
		if _, err := LoadEncoder(p, s, Weights{Seed: 3}); err != nil {
			t.Fatal(err)
		}
		e, err := NewFeatures(s, p, EvalBatch, 1)
		if err != nil {
			t.Fatal(err)
		}
		f, err := Features(e, sp, 1)
		e.Close()
		if err != nil {
			t.Fatal(err)
		}
		D := s.Spec.Dim
		sp.Raw, sp.RawDim = func(i int, dst []float32) { copy(dst, f[i*D:(i+1)*D]) }, D
	}
	raw, err := rawRow(trainSet, test, 5)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(raw.Probe, enc.Probe) || !reflect.DeepEqual(raw.KNN, enc.KNN) {
		t.Errorf("same features, different rows: raw %.4f/%.4f, encoder %.4f/%.4f",
			raw.Probe.Accuracy, raw.KNN.Accuracy, enc.Probe.Accuracy, enc.KNN.Accuracy)
	}
	if enc.Features != "random_init" || raw.Features != "raw" || raw.Dim != enc.Dim {
		t.Errorf("rows: %q dim %d, %q dim %d", enc.Features, enc.Dim, raw.Features, raw.Dim)
	}
}

// The pixel baseline of MNIST digits is far above chance (10%) on both
// protocols: a broken front end (zeros, wrong rows) would not be.
func TestEvalRawPixels(t *testing.T) {
	trainSet, test, _ := smallTask(t, 500)
	row, err := rawRow(trainSet, test, 20)
	if err != nil {
		t.Fatal(err)
	}
	if row.Dim != 784 || row.Probe.Accuracy < 0.75 || row.KNN.Accuracy < 0.75 {
		t.Errorf("raw pixels, 500 -> 500 digits: dim %d, probe %.3f, k-NN %.3f; want 784 and > 0.75",
			row.Dim, row.Probe.Accuracy, row.KNN.Accuracy)
	}
}

// Carve holds out the last sixth of each class, so a set stored class by
// class (as the embedded spoken digits are) still gives a validation split
// with every class, and the carved views read the right rows.
func TestCarve(t *testing.T) {
	n := 60
	labels := make([]int, n)
	for i := range labels {
		labels[i] = i / 30 // class-ordered: 30 of class 0, then 30 of class 1
	}
	sorted := &Labelled{Name: "sorted", N: n, Labels: labels, RawDim: 1,
		Inputs: func(idx []int) (any, []float32) {
			x := make([]float32, len(idx))
			for i, r := range idx {
				x[i] = float32(r)
			}
			return x, nil
		},
		Raw: func(i int, dst []float32) { dst[0] = float32(i) }}
	fit, val, err := sorted.Carve(ValFrac)
	if err != nil {
		t.Fatal(err)
	}
	wantVal := []int{25, 26, 27, 28, 29, 55, 56, 57, 58, 59}
	if fit.N != 50 || val.N != 10 || len(fit.Labels) != 50 {
		t.Fatalf("carve 60 by 1/6: fit %d, val %d", fit.N, val.N)
	}
	x, _ := val.Inputs([]int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9})
	for i, r := range wantVal {
		raw := make([]float32, 1)
		val.Raw(i, raw)
		if got := x.([]float32)[i]; got != float32(r) || raw[0] != float32(r) || val.Labels[i] != labels[r] {
			t.Errorf("validation row %d: input %v raw %v label %d, want train row %d (label %d)", i, got, raw[0], val.Labels[i], r, labels[r])
		}
	}
	fx, _ := fit.Inputs([]int{24, 25, 49})
	if got := fx.([]float32); !slices.Equal(got, []float32{24, 30, 54}) || fit.Labels[24] != 0 || fit.Labels[25] != 1 {
		t.Errorf("fit rows 24, 25, 49 read train rows %v, want 24, 30, 54", got)
	}

	// real data: the carved view of MNIST rows reads the same pixels
	trainSet, _, _ := smallTask(t, 60)
	_, mval, err := trainSet.Carve(ValFrac)
	if err != nil {
		t.Fatal(err)
	}
	var rows []int // the train rows the carve should hold out: the last sixth of each class
	count := map[int]int{}
	for _, l := range trainSet.Labels {
		count[l]++
	}
	seen := map[int]int{}
	for i, l := range trainSet.Labels {
		seen[l]++
		if seen[l] > count[l]-int(math.Round(ValFrac*float64(count[l]))) {
			rows = append(rows, i)
		}
	}
	if mval.N != len(rows) {
		t.Fatalf("MNIST carve: %d validation rows, want %d", mval.N, len(rows))
	}
	a, _ := mval.Inputs([]int{0, mval.N - 1})
	av := slices.Clone(a.([]float32))
	b, _ := trainSet.Inputs([]int{rows[0], rows[len(rows)-1]})
	if !slices.Equal(av, b.([]float32)) {
		t.Error("MNIST validation rows are not the held-out train rows")
	}
	if _, _, err := trainSet.Carve(0.001); err == nil {
		t.Error("carving 0 examples: no error")
	}
}

type testWriter struct{ t *testing.T }

func (w *testWriter) Write(p []byte) (int, error) { w.t.Log(string(p)); return len(p), nil }

// NewFeatures with several layers: the last D columns are the encoder's
// usual features, the others differ from them (earlier blocks), and the
// batch parts give the same values as one graph.
func TestFeaturesLayers(t *testing.T) {
	trainSet, _, s := smallTask(t, 20)
	s.Spec.Depth = 2
	p := ClassifierParams(s, 0)
	if _, err := LoadEncoder(p, s, Weights{Seed: 1}); err != nil {
		t.Fatal(err)
	}
	feats := func(layers, parts int) []float32 {
		s := s
		s.Parts = parts
		e, err := NewFeatures(s, p, 8, layers)
		if err != nil {
			t.Fatal(err)
		}
		defer e.Close()
		if e.FeatDim() != layers*s.Spec.Dim {
			t.Fatalf("FeatDim %d, want %d", e.FeatDim(), layers*s.Spec.Dim)
		}
		f, err := Features(e, trainSet, 1)
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	one, two, twoParts := feats(1, 1), feats(2, 1), feats(2, 2)
	D := s.Spec.Dim
	for i := range trainSet.N {
		if !slices.Equal(two[(2*i+1)*D:(2*i+2)*D], one[i*D:(i+1)*D]) {
			t.Fatalf("example %d: last layer's columns differ from the one-layer features", i)
		}
		if slices.Equal(two[2*i*D:(2*i+1)*D], one[i*D:(i+1)*D]) {
			t.Fatalf("example %d: first block's columns equal the output's", i)
		}
	}
	if !slices.Equal(two, twoParts) {
		t.Error("two batch parts give other features than one graph")
	}
	if _, err := NewFeatures(s, p, 8, 3); err == nil {
		t.Error("3 layers of a depth-2 model: no error")
	}
}

// Pooling in Go over regions: one region is the graph's own mean pool; the
// 2 x 2 regions of a 7 x 7 grid (4+3 rows and columns) average back to it
// when weighted by their token counts.
func TestFeaturesGrid(t *testing.T) {
	trainSet, _, s := smallTask(t, 12)
	p := ClassifierParams(s, 0)
	if _, err := LoadEncoder(p, s, Weights{Seed: 2}); err != nil {
		t.Fatal(err)
	}
	c, err := NewClassifier(s, p, 8, 0, false)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	graph, err := Features(c, trainSet, 1)
	if err != nil {
		t.Fatal(err)
	}
	e, err := NewFeatures(s, p, 8, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	one, err := Features(e, trainSet, 1)
	if err != nil {
		t.Fatal(err)
	}
	four, err := Features(e, trainSet, 2)
	if err != nil {
		t.Fatal(err)
	}
	D := s.Spec.Dim
	if len(four) != 4*len(one) || len(one) != len(graph) {
		t.Fatalf("lengths: graph %d, one region %d, four regions %d", len(graph), len(one), len(four))
	}
	size := []float64{16, 12, 12, 9} // rows 0-3 / 4-6 x columns 0-3 / 4-6
	for i := range trainSet.N {
		for j := range D {
			back := 0.0
			for r, n := range size {
				back += n / 49 * float64(four[(i*4+r)*D+j])
			}
			if d := math.Abs(float64(one[i*D+j]) - float64(graph[i*D+j])); d > 1e-5 {
				t.Fatalf("example %d feature %d: Go pool %g, graph pool %g", i, j, one[i*D+j], graph[i*D+j])
			}
			if d := math.Abs(back - float64(one[i*D+j])); d > 1e-5 {
				t.Fatalf("example %d feature %d: regions average to %g, want %g", i, j, back, one[i*D+j])
			}
		}
	}
	if _, err := Features(e, trainSet, 8); err == nil {
		t.Error("an 8 x 8 grid of a 7 x 7 patch grid: no error")
	}
}

// Limit keeps each class's share (largest remainders) from the first
// examples of each class, so a class-ordered set keeps every class.
func TestLimitStratified(t *testing.T) {
	labels := []int{0, 0, 0, 0, 0, 0, 1, 1, 1, 2, 2, 2} // class-ordered: 6, 3, 3
	set := &Labelled{Name: "sorted", N: len(labels), Labels: labels,
		Inputs: func(idx []int) (any, []float32) {
			x := make([]float32, len(idx))
			for i, r := range idx {
				x[i] = float32(r)
			}
			return x, nil
		}}
	lim := set.Limit(6) // shares 3, 1.5, 1.5: class 1 takes the remainder (ties go to the lower class)
	x, _ := lim.Inputs([]int{0, 1, 2, 3, 4, 5})
	if got := x.([]float32); lim.N != 6 || !slices.Equal(got, []float32{0, 1, 2, 6, 7, 9}) || !slices.Equal(lim.Labels, []int{0, 0, 0, 1, 1, 2}) {
		t.Errorf("Limit(6) of a 6/3/3 class-ordered set: rows %v labels %v, want rows [0 1 2 6 7 9]", got, lim.Labels)
	}
	if set.Limit(0) != set || set.Limit(12) != set {
		t.Error("Limit(0) and Limit(N) should keep the whole split")
	}
}
