package ops

import (
	"fmt"

	"github.com/d2v/d2v/internal/floats"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Emit is x passed through unchanged that, when it runs, also copies x's
// value into dst (a []float32 or []float64 of x's size and dtype, e.g.
// another graph's input) and signals on ready (buffered: the send never
// blocks). It hands an intermediate value to another goroutine in the
// middle of a run: the speech student gives its teacher the conv features
// they share (scope blocks) instead of the teacher recomputing them. Its
// gradient is the output's.
func Emit(x *G.Node, dst any, ready chan<- struct{}) (*G.Node, error) {
	if cap(ready) < 1 {
		return nil, fmt.Errorf("emit: ready must be buffered")
	}
	if n := floats.Len(dst); n != x.Shape().TotalSize() {
		return nil, fmt.Errorf("emit: destination has %d values, x %v", n, x.Shape())
	}
	return apply(emit{shape: x.Shape().Clone(), dst: dst, ready: ready}, x)
}

type emit struct {
	shape tensor.Shape
	dst   any
	ready chan<- struct{}
}

func (k emit) name() string             { return fmt.Sprintf("Emit%v(%p)", k.shape, k.ready) }
func (k emit) inShapes() []tensor.Shape { return []tensor.Shape{k.shape} }
func (k emit) outShape() tensor.Shape   { return k.shape }
func (k emit) diff() []bool             { return []bool{true} }

func (k emit) fwd(out any, in []any) {
	switch o := out.(type) {
	case []float32:
		copy(o, in[0].([]float32))
		copy(k.dst.([]float32), o)
	case []float64:
		copy(o, in[0].([]float64))
		copy(k.dst.([]float64), o)
	}
	select {
	case k.ready <- struct{}{}:
	default: // a signal is already pending
	}
}

func (k emit) bwd(gin, _ []any, _, gout any) {
	switch g := gin[0].(type) {
	case []float32:
		copy(g, gout.([]float32))
	case []float64:
		copy(g, gout.([]float64))
	}
}
