package ops

import (
	"slices"
	"strings"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

func refGatherFill(d int) func([][]float64) []float64 {
	return func(a [][]float64) []float64 {
		var y []float64
		for _, i := range a[2] {
			if i < 0 {
				y = append(y, a[1]...)
			} else {
				y = append(y, a[0][int(i)*d:int(i)*d+d]...)
			}
		}
		return y
	}
}

func TestGatherFill(t *testing.T) {
	for _, c := range []opCase{
		{name: "fill-and-repeats", shapes: []tensor.Shape{sh(4, 3), sh(3), sh(6)}, vals: [][]float64{nil, nil, {3, -1, 0, 3, -1, 2}},
			diff:  []bool{true, true, false},
			build: func(n []*G.Node) (*G.Node, error) { return GatherFill(n[0], n[1], n[2]) }, ref: refGatherFill(3)},
		{name: "no-fill", shapes: []tensor.Shape{sh(3, 2), sh(2), sh(2)}, vals: [][]float64{nil, nil, {2, 0}},
			diff:  []bool{true, true, false},
			build: func(n []*G.Node) (*G.Node, error) { return GatherFill(n[0], n[1], n[2]) }, ref: refGatherFill(2)},
	} {
		t.Run(c.name, c.check)
	}
}

func TestGatherFillShapes(t *testing.T) {
	g := G.NewGraph()
	src := G.NewMatrix(g, tensor.Float64, G.WithShape(4, 3), G.WithName("src"))
	fill := G.NewVector(g, tensor.Float64, G.WithShape(2), G.WithName("fill"))
	idx := G.NewVector(g, tensor.Float64, G.WithShape(5), G.WithName("idx"))
	if _, err := GatherFill(src, fill, idx); err == nil || !strings.Contains(err.Error(), "fill (D)") {
		t.Fatalf("err %v, want a shape error", err)
	}
}

// TestCloneIndex: 2 samples x 2 clones of T = 4 positions keeping 2, with
// a CLS token; the indices are written out by hand.
func TestCloneIndex(t *testing.T) {
	const X, o = true, false
	mask := []bool{
		X, o, X, o, // sample 0 clone 0: keeps 1, 3
		o, X, X, o, // sample 0 clone 1: keeps 0, 3
		o, o, X, X, // sample 1 clone 0: keeps 0, 1
		X, X, o, o, // sample 1 clone 1: keeps 2, 3
	}
	keep, place, masked := make([]float64, 4*3), make([]float64, 4*4), make([]float64, 4*2)
	if err := CloneIndex(keep, place, masked, mask, 4, 4, 2, 1); err != nil {
		t.Fatal(err)
	}
	wantKeep := []float64{-1, 1, 3, -1, 0, 3, -1, 4, 5, -1, 6, 7} // rows of the (B*T, D) embeddings
	wantPlace := []float64{-1, 1, -1, 2, 4, -1, -1, 5, 7, 8, -1, -1, -1, -1, 10, 11}
	wantMasked := []float64{0, 2, 5, 6, 10, 11, 12, 13}
	if !slices.Equal(keep, wantKeep) || !slices.Equal(place, wantPlace) || !slices.Equal(masked, wantMasked) {
		t.Fatalf("keep %v\nplace %v\nmasked %v\nwant %v\n%v\n%v", keep, place, masked, wantKeep, wantPlace, wantMasked)
	}
	// without CLS, one destination at a time
	keep32 := make([]float32, 4*2)
	if err := CloneIndex(keep32, nil, nil, mask, 4, 4, 2, 0); err != nil {
		t.Fatal(err)
	}
	if want := []float32{1, 3, 0, 3, 4, 5, 6, 7}; !slices.Equal(keep32, want) {
		t.Fatalf("keep %v, want %v", keep32, want)
	}
}

func TestCloneIndexErrors(t *testing.T) {
	const X, o = true, false
	for _, c := range []struct {
		name  string
		mask  []bool
		keep  int
		rows  int
		clone int
		want  string
	}{
		{"uneven", []bool{X, o, o, X, X, o}, 4, 2, 1, "row 1 keeps 1 positions, row 0 keeps 2"},
		{"keep-len", []bool{X, o, o, X, o, o}, 5, 2, 1, "keep has 5 values, want 4"},
		{"clones", []bool{X, o, o, X, o, o}, 4, 2, 3, "clones 3"},
		{"mask-len", []bool{X, o, o}, 4, 2, 1, "mask of 3 values"},
		{"all-masked", []bool{X, X, X, X, X, X}, 0, 2, 1, "keeps no position"},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := CloneIndex(make([]float64, c.keep), nil, nil, c.mask, c.rows, 3, c.clone, 0)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err %v, want one containing %q", err, c.want)
			}
		})
	}
}
