package step

import (
	"slices"
	"testing"

	"github.com/d2v/d2v/pkg/model"
	"github.com/d2v/d2v/pkg/ops"
)

// TestClonedRows: the speech student's indices. 2 samples x 2 clones of 3
// frames, 1 kept per clone, a CLS token: cloned gives each clone its
// sample's frames with the masked ones -1 (zero), and keep points at the
// clone's own rows r*T+t of the cloned features.
func TestClonedRows(t *testing.T) {
	sh := Shape{B: 2, M: 2, N: 4, T: 3, K: 1, E: 1, D: 1}
	mask := []bool{
		true, false, true, // sample 0 clone 0 keeps 1
		false, true, true, // sample 0 clone 1 keeps 0
		true, true, false, // sample 1 clone 0 keeps 2
		true, false, true, // sample 1 clone 1 keeps 1
	}
	keep := make([]float64, sh.N*(sh.E+sh.K))
	if err := ops.CloneIndex(keep, nil, nil, mask, sh.N, sh.T, sh.M, sh.E); err != nil {
		t.Fatal(err)
	}
	if want := []float64{-1, 1, -1, 0, -1, 5, -1, 4}; !slices.Equal(keep, want) { // rows of the un-cloned (B*T)
		t.Fatalf("CloneIndex keep = %v, want %v", keep, want)
	}
	cloned := make([]float64, sh.N*sh.T)
	clonedRows(sh, mask, keep, cloned)
	if want := []float64{-1, 1, -1, 0, -1, -1, -1, -1, 5, -1, 4, -1}; !slices.Equal(cloned, want) {
		t.Errorf("cloned = %v, want %v", cloned, want)
	}
	if want := []float64{-1, 1, -1, 3, -1, 8, -1, 10}; !slices.Equal(keep, want) { // rows r*T+t of the clones
		t.Errorf("keep = %v, want %v", keep, want)
	}
}

// TestStudentSeesOnlyVisibleTokens: changing a token that clone 0 masks
// and clone 1 keeps leaves clone 0's student outputs as they were and
// changes clone 1's (the student encodes only the visible tokens).
func TestStudentSeesOnlyVisibleTokens(t *testing.T) {
	c := gc2Cases[3] // tokens, pre-LN, CLS, 2 clones
	d, x, mask, full := gc2Prepare(t, c)
	defer d.Close()
	sh := d.Shape()
	p := -1 // a position of sample 0 masked in clone 0 and kept in clone 1
	for q := 0; q < sh.T; q++ {
		if mask[q] && !mask[sh.T+q] {
			p = q
			break
		}
	}
	if p < 0 {
		t.Fatal("no position masked in clone 0 and kept in clone 1")
	}
	out := func() []float64 {
		o, err := d.StudentPass2(x, mask, full)
		if err != nil {
			t.Fatal(err)
		}
		return slices.Clone(o.StudentOut.([]float64))
	}
	before := out()
	x[p] = float64((int(x[p]) + 1) % c.mod.(model.Tokens).Vocab)
	after := out()
	rows := (sh.E + sh.K) * sh.D // one clone's outputs
	if !slices.Equal(before[:rows], after[:rows]) {
		t.Error("clone 0's outputs changed with a token it masks")
	}
	if slices.Equal(before[rows:2*rows], after[rows:2*rows]) {
		t.Error("clone 1's outputs did not change with a token it sees")
	}
}
