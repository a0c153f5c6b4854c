package eval

import (
	"math"
	"testing"
)

// A pure tone puts its largest mean log-mel energy in the band whose centre
// is nearest the tone; silence gives log(floor) everywhere.
func TestLogMelTone(t *testing.T) {
	m, err := NewLogMel(16000)
	if err != nil {
		t.Fatal(err)
	}
	centre := func(b int) float64 { // the band's peak: the bin of largest weight
		best := 0
		for k, w := range m.banks[b] {
			if w > m.banks[b][best] {
				best = k
			}
		}
		return float64(best) * 16000 / MelFFT
	}
	for _, hz := range []float64{300, 1000, 4000} {
		x := make([]float32, 4000)
		for i := range x {
			x[i] = float32(math.Sin(2 * math.Pi * hz * float64(i) / 16000))
		}
		dst := make([]float32, MelBands)
		m.MeanFrames(x, dst)
		best := 0
		for b, v := range dst {
			if v > dst[best] {
				best = b
			}
		}
		if math.Abs(centre(best)-hz) > 200 {
			t.Errorf("%g Hz tone: loudest band %d peaks at %g Hz", hz, best, centre(best))
		}
	}
	dst := make([]float32, MelBands)
	m.MeanFrames(make([]float32, 100), dst) // shorter than a window: one zero frame
	for b, v := range dst {
		if math.Abs(float64(v)-math.Log(melFloor)) > 1e-4 {
			t.Fatalf("silence band %d: %g, want log(%g)", b, v, melFloor)
		}
	}
	if _, err := NewLogMel(0); err == nil {
		t.Error("rate 0: no error")
	}
}

func TestTokenVocabBag(t *testing.T) {
	const pad = 0
	seqs := [][]int{{5, 7, 7, pad}, {7, 9, 5, 5}, {11, 7, pad, pad}}
	v := NewTokenVocab(seqs, 2, pad) // counts: 7:4, 5:3, 9:1, 11:1
	if v.Dim != 3 || v.col[7] != 0 || v.col[5] != 1 {
		t.Fatalf("vocab %+v: want 7 -> 0, 5 -> 1, Dim 3", v)
	}
	dst := make([]float32, v.Dim)
	v.Bag([]int{7, 9, 5, 5, pad, pad}, dst, pad)
	want := []float32{0.25, 0.5, 0.25} // 9 is "other"; padding not counted
	for i := range want {
		if math.Abs(float64(dst[i]-want[i])) > 1e-7 {
			t.Fatalf("bag %v, want %v", dst, want)
		}
	}
}

// The raw baseline of a linearly separable set is what a probe must get:
// every test example right, for the probe and for k-NN.
func TestRawSeparable(t *testing.T) {
	const pad = 0
	// class 0 texts use ids 1-3, class 1 ids 4-6; a bag of tokens separates them
	texts := [][]int{{1, 2, pad}, {2, 3, 3}, {1, 1, 3}, {4, 5, pad}, {6, 6, 4}, {5, 4, 6}, {3, 2, 1}, {6, 5, 5}}
	labels := []int{0, 0, 0, 1, 1, 1, 0, 1}
	v := NewTokenVocab(texts[:6], 16, pad)
	feats := func(lo, hi int) Features {
		f := Features{N: hi - lo, D: v.Dim, Labels: labels[lo:hi], Classes: 2, X: make([]float32, (hi-lo)*v.Dim)}
		for i := lo; i < hi; i++ {
			v.Bag(texts[i], f.X[(i-lo)*v.Dim:(i-lo+1)*v.Dim], pad)
		}
		return f
	}
	train, test := feats(0, 6), feats(6, 8)
	p, err := LinearProbe(train, test, ProbeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	k, err := KNN(train, test, 3)
	if err != nil {
		t.Fatal(err)
	}
	if p.Accuracy != 1 || k.Accuracy != 1 {
		t.Errorf("separable raw features: probe %.2f, k-NN %.2f, want 1 and 1", p.Accuracy, k.Accuracy)
	}
}
