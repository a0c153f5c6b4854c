package ops

import (
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Arrival is a value handed to an Await node at run time: (M, D) values as
// []float32 or []float64, or the error that kept them from being made.
type Arrival struct {
	Values any
	Err    error
}

// Await is an (m, d) graph value that arrives at run time on src: its
// forward blocks until an Arrival comes, then copies it. It lets the
// student's forward pass run while the teacher computes its targets on
// another goroutine. It takes `after` as an input only to be ordered after
// it (the tape runs it once `after` is computed) and passes no gradient. A
// failed Arrival (Err set, or values of the wrong size) yields zeros; the
// caller, which sent it, reports the error and discards the run.
func Await(after *G.Node, m, d int, src <-chan Arrival) (*G.Node, error) {
	return apply(await{m: m, d: d, after: after.Shape().Clone(), src: src}, after)
}

type await struct {
	m, d  int
	after tensor.Shape
	src   <-chan Arrival
}

func (k await) name() string             { return fmt.Sprintf("Await(%d,%d,%p)", k.m, k.d, k.src) }
func (k await) inShapes() []tensor.Shape { return []tensor.Shape{k.after} }
func (k await) outShape() tensor.Shape   { return tensor.Shape{k.m, k.d} }
func (k await) diff() []bool             { return []bool{false} }

func (k await) fwd(out any, _ []any) {
	a := <-k.src
	switch o := out.(type) {
	case []float32:
		copyArrival(o, a)
	case []float64:
		copyArrival(o, a)
	}
}

func copyArrival[T Float](dst []T, a Arrival) {
	ok := false
	if a.Err == nil {
		switch v := a.Values.(type) {
		case []float32:
			if ok = len(v) == len(dst); ok {
				for i, x := range v {
					dst[i] = T(x)
				}
			}
		case []float64:
			if ok = len(v) == len(dst); ok {
				for i, x := range v {
					dst[i] = T(x)
				}
			}
		}
	}
	if !ok {
		clear(dst)
	}
}

func (k await) bwd(_, _ []any, _, _ any) {}
