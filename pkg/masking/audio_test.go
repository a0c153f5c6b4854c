package masking

import (
	"math"
	"testing"
)

func TestSpanCount(t *testing.T) {
	for _, c := range []struct {
		prob       float64
		t, l, want int
	}{
		{0.65, 49, 10, 24},    // 48.9% of 49 = 23.97 -> 24
		{0.65, 1000, 10, 489}, // the speech recipe: about 49% (DATA2VEC.md §1.3)
		{0.65, 3, 10, 1},      // 1.47 -> 1
		{0.1, 10, 1, 1},
		{0.5, 1, 10, 0}, // too short: rejected by ValidateCount
		{0.5, 10, 0, 0},
	} {
		if got := SpanCount(c.prob, c.t, c.l); got != c.want {
			t.Errorf("SpanCount(%g, %d, %d) = %d, want %d", c.prob, c.t, c.l, got, c.want)
		}
	}
}

func TestTimeSpansExactCountAndRuns(t *testing.T) {
	const T, L = 49, 10
	n := SpanCount(0.65, T, L)
	dst := make([]bool, T)
	hits := make([]int, T)
	var nRuns, runTotal int
	const samples = 4000
	for i := 0; i < samples; i++ {
		TimeSpans(NewRNG(7, int64(i), i%8), T, n, L, 0.65, dst)
		if c := countTrue(dst); c != n {
			t.Fatalf("sample %d: %d masked, want exactly %d", i, c, n)
		}
		r, tot := runs(dst)
		nRuns += r
		runTotal += tot
		for p, m := range dst {
			if m {
				hits[p]++
			}
		}
	}
	// Spans, not scattered frames: the mean run is several frames long.
	if mean := float64(runTotal) / float64(nRuns); mean < 5 {
		t.Errorf("mean masked run %.2f frames, want spans (>= 5) for span length %d", mean, L)
	}
	// Interior frames are masked about n/T of the time (edges less: spans must fit).
	for p := L; p < T-L; p++ {
		if f := float64(hits[p]) / samples; math.Abs(f-float64(n)/T) > 0.12 {
			t.Errorf("frame %d masked %.3f of the time, want about %.3f", p, f, float64(n)/T)
		}
	}
}

func TestTimeSpansReproducibleAndEdgeCases(t *testing.T) {
	a, b := make([]bool, 30), make([]bool, 30)
	TimeSpans(NewRNG(1, 5, 2), 30, 12, 4, 0.65, a)
	TimeSpans(NewRNG(1, 5, 2), 30, 12, 4, 0.65, b)
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("same (seed, step, sample) gave different masks at %d", i)
		}
	}
	// Every span length and count from 1 to t-1 reaches its count exactly.
	for l := 1; l <= 8; l++ {
		for n := 1; n < 8; n++ {
			d := make([]bool, 8)
			TimeSpans(NewRNG(3, int64(l), n), 8, n, l, 0.65, d)
			if c := countTrue(d); c != n {
				t.Errorf("t 8, span %d: %d masked, want %d", l, c, n)
			}
		}
	}
	for _, c := range []struct{ t, n, l int }{{10, 0, 3}, {10, 10, 3}, {10, 5, 11}, {10, 5, 0}} {
		if ValidateSpans(c.t, c.n, c.l) == nil {
			t.Errorf("ValidateSpans(%d, %d, %d) = nil, want an error", c.t, c.n, c.l)
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("TimeSpans with n = t did not panic")
		}
	}()
	TimeSpans(NewRNG(0, 0, 0), 5, 5, 2, 0.65, make([]bool, 5))
}
