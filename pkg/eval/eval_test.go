package eval

import (
	"math"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"
)

// blobs draws n rows of D-dim gaussian noise (sigma 1) around sep*e_c for
// class c = i % classes; sep = 6 is linearly separable and separable by angle.
func blobs(r *rand.Rand, n, d, classes int, sep float64) Features {
	f := Features{X: make([]float32, n*d), N: n, D: d, Labels: make([]int, n), Classes: classes}
	for i := range n {
		c := i % classes
		f.Labels[i] = c
		for j := range d {
			v := r.NormFloat64()
			if j == c {
				v += sep
			}
			f.X[i*d+j] = float32(v)
		}
	}
	return f
}

// noise draws features and labels independently: nothing to learn.
func noise(r *rand.Rand, n, d, classes int) Features {
	f := Features{X: make([]float32, n*d), N: n, D: d, Labels: make([]int, n), Classes: classes}
	for i := range f.X {
		f.X[i] = float32(r.NormFloat64())
	}
	for i := range f.Labels {
		f.Labels[i] = r.IntN(classes)
	}
	return f
}

func TestSeparableAndChance(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	sepTrain, sepTest := blobs(r, 300, 8, 3, 6), blobs(r, 150, 8, 3, 6)
	rndTrain, rndTest := noise(r, 200, 16, 2), noise(r, 400, 16, 2)
	tests := []struct {
		name        string
		train, test Features
		lo, hi      float64
	}{
		{"separable", sepTrain, sepTest, 0.95, 1},
		{"random labels", rndTrain, rndTest, 0, 0.6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			probe, err := LinearProbe(tt.train, tt.test, ProbeOptions{})
			if err != nil {
				t.Fatal(err)
			}
			knn, err := KNN(tt.train, tt.test, 0)
			if err != nil {
				t.Fatal(err)
			}
			for _, res := range []*Result{probe, knn} {
				if res.Accuracy < tt.lo || res.Accuracy > tt.hi {
					t.Errorf("%s accuracy %.3f, want in [%g,%g]", res.Method, res.Accuracy, tt.lo, tt.hi)
				}
				checkConfusion(t, res, tt.test)
			}
		})
	}
}

// checkConfusion checks the matrix sums to N, row sums match labels, and
// the diagonal agrees with Accuracy and PerClass.
func checkConfusion(t *testing.T, res *Result, test Features) {
	t.Helper()
	total, diag := 0, 0
	support := make([]int, test.Classes)
	for _, y := range test.Labels {
		support[y]++
	}
	for tc, row := range res.Confusion {
		n := 0
		for _, c := range row {
			n += c
		}
		if n != support[tc] {
			t.Errorf("%s: confusion row %d sums to %d, want %d", res.Method, tc, n, support[tc])
		}
		if n > 0 && math.Abs(res.PerClass[tc]-float64(row[tc])/float64(n)) > 1e-12 {
			t.Errorf("%s: per-class %d = %g, want %g", res.Method, tc, res.PerClass[tc], float64(row[tc])/float64(n))
		}
		total += n
		diag += row[tc]
	}
	if total != test.N {
		t.Errorf("%s: confusion sums to %d, want N = %d", res.Method, total, test.N)
	}
	if got := float64(diag) / float64(test.N); got != res.Accuracy {
		t.Errorf("%s: accuracy %g, diagonal says %g", res.Method, res.Accuracy, got)
	}
}

func TestKNNCosineByHand(t *testing.T) {
	// Euclidean distance puts the test row nearer (1,0); the angle to (5,5)
	// is 6.3 degrees against 38.7, so cosine 1-NN must pick class 1.
	train := Features{X: []float32{1, 0, 5, 5}, N: 2, D: 2, Labels: []int{0, 1}, Classes: 2}
	test := Features{X: []float32{2, 1.6, 3, -0.1}, N: 2, D: 2, Labels: []int{1, 0}, Classes: 2}
	res, err := KNN(train, test, 1)
	if err != nil {
		t.Fatal(err)
	}
	if res.Accuracy != 1 || res.Method != "knn_k1" {
		t.Fatalf("got %+v, want accuracy 1 with method knn_k1", res)
	}
	want := [][]int{{1, 0}, {0, 1}}
	for i := range want {
		for j := range want[i] {
			if res.Confusion[i][j] != want[i][j] {
				t.Fatalf("confusion %v, want %v", res.Confusion, want)
			}
		}
	}
}

func TestTopKKeepsLargestInOrder(t *testing.T) {
	var tk topK
	for i, s := range []float32{0.1, 0.9, 0.5, 0.9, 0.7, 0.2} {
		tk.push(s, i, 3)
	}
	wantSim, wantIdx := []float32{0.9, 0.9, 0.7}, []int{1, 3, 4}
	for i := range wantSim {
		if tk.sim[i] != wantSim[i] || tk.idx[i] != wantIdx[i] {
			t.Fatalf("top-3 = %v %v, want %v %v", tk.sim, tk.idx, wantSim, wantIdx)
		}
	}
}

func TestBadInputs(t *testing.T) {
	good := func() Features {
		return Features{X: []float32{1, 2, 3, 4}, N: 2, D: 2, Labels: []int{0, 1}, Classes: 2}
	}
	tests := []struct {
		name   string
		mutate func(tr, te *Features)
		want   string
	}{
		{"zero N", func(tr, _ *Features) { tr.N = 0 }, "train features.N"},
		{"short X", func(_, te *Features) { te.X = te.X[:3] }, "test features.X"},
		{"label range", func(tr, _ *Features) { tr.Labels[1] = 2 }, "train features.Labels[1]"},
		{"negative label", func(_, te *Features) { te.Labels[0] = -1 }, "test features.Labels[0]"},
		{"label count", func(tr, _ *Features) { tr.Labels = tr.Labels[:1] }, "train features.Labels"},
		{"width mismatch", func(_, te *Features) { te.D, te.N, te.Labels = 4, 1, te.Labels[:1] }, "test features.D"},
		{"one class", func(tr, _ *Features) { tr.Classes, tr.Labels = 1, []int{0, 0} }, "train features.Classes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr, te := good(), good()
			tt.mutate(&tr, &te)
			if _, err := LinearProbe(tr, te, ProbeOptions{}); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("LinearProbe error %v, want it to name %q", err, tt.want)
			}
			if _, err := KNN(tr, te, 1); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("KNN error %v, want it to name %q", err, tt.want)
			}
		})
	}
	if _, err := KNN(good(), good(), -1); err == nil || !strings.Contains(err.Error(), "k:") {
		t.Errorf("KNN k=-1: error %v, want it to name k", err)
	}
	if _, err := LinearProbe(good(), good(), ProbeOptions{L2: -1}); err == nil || !strings.Contains(err.Error(), "opts.L2") {
		t.Errorf("LinearProbe L2=-1: error %v, want it to name opts.L2", err)
	}
}

// tinyProbe is a 5-row, D=3, C=4 problem with non-trivial weights.
func tinyProbe() (*probe, []float64) {
	r := rand.New(rand.NewPCG(3, 4))
	p := &probe{x: make([]float64, 15), y: []int{0, 3, 1, 1, 2}, n: 5, d: 3, c: 4, l2: 0.3}
	for i := range p.x {
		p.x[i] = r.NormFloat64()
	}
	w := make([]float64, p.c*p.d+p.c)
	for i := range w {
		w[i] = r.NormFloat64()
	}
	return p, w
}

func TestProbeGradient(t *testing.T) {
	p, w := tinyProbe()
	grad := make([]float64, len(w))
	p.loss(w, grad)
	scratch := make([]float64, len(w))
	const eps = 1e-6
	for i := range w {
		orig := w[i]
		w[i] = orig + eps
		fp := p.loss(w, scratch)
		w[i] = orig - eps
		fm := p.loss(w, scratch)
		w[i] = orig
		num := (fp - fm) / (2 * eps)
		if rel := math.Abs(num-grad[i]) / math.Max(1e-8, math.Abs(num)+math.Abs(grad[i])); rel > 1e-4 {
			t.Errorf("grad[%d] = %g, finite difference %g (rel err %g)", i, grad[i], num, rel)
		}
	}
}

func TestProbeLossIndependentOfCPUs(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	f := blobs(r, 1000, 8, 3, 6)
	mean, std := moments(f)
	p := &probe{x: standardise(f, mean, std), y: f.Labels, n: f.N, d: f.D, c: f.Classes, l2: 1e-3}
	w := make([]float64, p.c*p.d+p.c)
	for i := range w {
		w[i] = r.NormFloat64()
	}
	g1, g2 := make([]float64, len(w)), make([]float64, len(w))
	prev := runtime.GOMAXPROCS(1)
	f1 := p.loss(w, g1)
	runtime.GOMAXPROCS(max(prev, 3))
	f2 := p.loss(w, g2)
	runtime.GOMAXPROCS(prev)
	if f1 != f2 {
		t.Errorf("loss %v with 1 CPU, %v with more", f1, f2)
	}
	for i := range g1 {
		if g1[i] != g2[i] {
			t.Fatalf("grad[%d] %v with 1 CPU, %v with more", i, g1[i], g2[i])
		}
	}
}
