package ops

import (
	"fmt"
	"hash"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Add is a + b for two tensors of the same shape (the residual
// connections). Unlike Gorgonia's Add, which clones its first operand on
// every call and adds on one core, it writes into a buffer reused from
// one run to the next and splits the sum over the cores. Its gradient is
// the output gradient itself for both inputs (no node, no copy).
func Add(a, b *G.Node) (*G.Node, error) {
	if !a.Shape().Eq(b.Shape()) {
		return nil, fmt.Errorf("Add: shapes %v and %v differ", a.Shape(), b.Shape())
	}
	return G.ApplyOp(addOp{shape: a.Shape().Clone(), buf: &buffer{}}, a, b)
}

type addOp struct {
	shape tensor.Shape
	buf   *buffer
}

func (o addOp) Arity() int { return 2 }
func (o addOp) Type() hm.Type {
	t := typeOf(o.shape.Dims())
	return hm.NewFnType(t, t, t)
}
func (o addOp) InferShape(...G.DimSizer) (tensor.Shape, error) { return o.shape.Clone(), nil }
func (o addOp) ReturnsPtr() bool                               { return false }
func (o addOp) CallsExtern() bool                              { return false }
func (o addOp) OverwritesInput() int                           { return -1 }
func (o addOp) WriteHash(h hash.Hash)                          { fmt.Fprint(h, o.String()) }
func (o addOp) Hashcode() uint32                               { return hashOf(o.String()) }
func (o addOp) String() string                                 { return fmt.Sprintf("Add%v", o.shape) }
func (o addOp) DiffWRT(int) []bool                             { return []bool{true, true} }

// SymDiff: d(a+b)/da = d(a+b)/db = identity, so both inputs get grad.
func (o addOp) SymDiff(_ G.Nodes, _, grad *G.Node) (G.Nodes, error) {
	return G.Nodes{grad, grad}, nil
}

func (o addOp) Do(vals ...G.Value) (G.Value, error) {
	in, dt, err := o.buf.in.slices(o.String, vals)
	if err != nil {
		return nil, err
	}
	out := o.buf.get(dt, o.shape.TotalSize())
	if y, ok := out.([]float32); ok {
		addInto(y, in[0].([]float32), in[1].([]float32))
	} else {
		addInto(out.([]float64), in[0].([]float64), in[1].([]float64))
	}
	return o.buf.out.view(dt, o.shape, out, 0, o.shape.TotalSize()), nil
}

func addInto[T Float](y, a, b []T) {
	parallel(len(y), 1<<14, func(_, lo, hi int) {
		y, a, b := y[lo:hi], a[lo:hi], b[lo:hi]
		for i := range y {
			y[i] = a[i] + b[i]
		}
	})
}
