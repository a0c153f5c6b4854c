package step

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// TestForwardPairOverlapIsExact: ForwardPair (teacher and student forward
// on two goroutines, targets handed over by ops.Await) gives the same bits
// as Targets followed by StudentPass; a bad hand-over is an error that
// leaves the next pass unaffected.
func TestForwardPairOverlapIsExact(t *testing.T) {
	c := gcCases[1]
	d := gcModel(t, c, 5)
	defer d.Close()
	x, mask := gcBatch(c.tokens, rand.New(rand.NewPCG(5, 1)))
	y, err := d.Targets(x, mask)
	if err != nil {
		t.Fatal(err)
	}
	y = slices.Clone(y.([]float64))
	seq, err := d.StudentPass(x, mask, y)
	if err != nil {
		t.Fatal(err)
	}
	want := seq.Loss
	wantG := make([][]float64, len(seq.Grads))
	for i, g := range seq.Grads {
		wantG[i] = slices.Clone(g.([]float64))
	}
	if _, err := d.StudentPass(x, mask, []float64{1, 2, 3}); err == nil || !strings.Contains(err.Error(), "targets have 3 values") {
		t.Fatalf("wrong-size targets: err %v", err)
	}
	for i := 0; i < 3; i++ {
		out, err := d.ForwardPair(x, x, mask)
		if err != nil {
			t.Fatal(err)
		}
		if out.Loss != want || !slices.Equal(out.Targets.([]float64), y.([]float64)) {
			t.Fatalf("run %d: overlapped pass differs from the sequential one (loss %v vs %v)", i, out.Loss, want)
		}
		for j, g := range out.Grads {
			if !slices.Equal(g.([]float64), wantG[j]) {
				t.Fatalf("run %d: overlapped pass's gradient of %s differs from the sequential one", i, d.Names[j])
			}
		}
	}
}
