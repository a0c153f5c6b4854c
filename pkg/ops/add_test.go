package ops

import (
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

func TestAdd(t *testing.T) {
	s := tensor.Shape{6, 4}
	opCase{
		name:   "Add",
		shapes: []tensor.Shape{s, s},
		diff:   []bool{true, true},
		build:  func(in []*G.Node) (*G.Node, error) { return Add(in[0], in[1]) },
		ref: func(in [][]float64) []float64 {
			out := make([]float64, len(in[0]))
			for i := range out {
				out[i] = in[0][i] + in[1][i]
			}
			return out
		},
	}.check(t)
	// The same node on both sides (h + h): gradients add up to 2*grad.
	opCase{
		name:   "AddSelf",
		shapes: []tensor.Shape{s},
		diff:   []bool{true},
		build:  func(in []*G.Node) (*G.Node, error) { return Add(in[0], in[0]) },
		ref: func(in [][]float64) []float64 {
			out := make([]float64, len(in[0]))
			for i := range out {
				out[i] = 2 * in[0][i]
			}
			return out
		},
	}.check(t)
	g := G.NewGraph()
	a := G.NewMatrix(g, tensor.Float32, G.WithShape(2, 3), G.WithName("a"))
	b := G.NewMatrix(g, tensor.Float32, G.WithShape(3, 2), G.WithName("b"))
	if _, err := Add(a, b); err == nil {
		t.Error("Add of (2,3) and (3,2): no error")
	}
}

func BenchmarkAdd(b *testing.B) {
	const n = 512 * 128 // config S: B*T tokens of width D
	y, x, z := make([]float32, n), make([]float32, n), make([]float32, n)
	b.SetBytes(3 * 4 * n)
	for i := 0; i < b.N; i++ {
		addInto(y, x, z)
	}
}
