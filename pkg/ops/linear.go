package ops

import (
	"fmt"

	"github.com/d2v/d2v/pkg/vmath"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Linear returns x @ w + b for x (N, In), w (In, Out), b (Out) -> (N, Out).
// Weights are stored (in, out), as in our checkpoints.
func Linear(x, w, b *G.Node) (*G.Node, error) {
	if x.Dims() != 2 || w.Dims() != 2 {
		return nil, fmt.Errorf("linear %s: want 2-D x and w, got %v and %v", w.Name(), x.Shape(), w.Shape())
	}
	return apply(linear{n: x.Shape()[0], in: w.Shape()[0], out: w.Shape()[1]}, x, w, b)
}

type linear struct{ n, in, out int }

func (k linear) name() string { return fmt.Sprintf("Linear(%d,%d->%d)", k.n, k.in, k.out) }
func (k linear) inShapes() []tensor.Shape {
	return []tensor.Shape{{k.n, k.in}, {k.in, k.out}, {k.out}}
}
func (k linear) outShape() tensor.Shape { return tensor.Shape{k.n, k.out} }
func (k linear) diff() []bool           { return []bool{true, true, true} }

func (k linear) fwd(out any, in []any) {
	dispatch(out, func() { linearFwd(k, as[float32](out), as[float32](in[0]), as[float32](in[1]), as[float32](in[2])) },
		func() { linearFwd(k, as[float64](out), as[float64](in[0]), as[float64](in[1]), as[float64](in[2])) })
}

func (k linear) bwd(gin, in []any, _, gout any) {
	dispatch(gout, func() {
		linearBwd(k, as[float32](gin[0]), as[float32](gin[1]), as[float32](gin[2]), as[float32](in[0]), as[float32](in[1]), as[float32](gout))
	}, func() {
		linearBwd(k, as[float64](gin[0]), as[float64](gin[1]), as[float64](gin[2]), as[float64](in[0]), as[float64](in[1]), as[float64](gout))
	})
}

func linearFwd[T Float](k linear, y, x, w, b []T) {
	for r := 0; r < k.n; r++ {
		copy(y[r*k.out:(r+1)*k.out], b)
	}
	gemm(false, false, k.n, k.out, k.in, 1, x, k.in, w, k.out, 1, y, k.out)
}

func linearBwd[T Float](k linear, dx, dw, db, x, w, dy []T) {
	gemm(false, true, k.n, k.in, k.out, 1, dy, k.out, w, k.out, 0, dx, k.in) // (N,Out)@(Out,In)
	gemm(true, false, k.in, k.out, k.n, 1, x, k.in, dy, k.out, 0, dw, k.out) // (In,N)@(N,Out)
	if db32, ok := any(db).([]float32); ok {                                 // 8-lane column sums, same bits; columns split over cores
		dy32 := any(dy).([]float32)
		parallel(k.out, 64, func(_, lo, hi int) { vmath.ColSum(db32[lo:hi], dy32[lo:], k.n, k.out) })
		return
	}
	clear(db)
	for r := 0; r < k.n; r++ {
		row := dy[r*k.out : (r+1)*k.out]
		for j, v := range row {
			db[j] += v
		}
	}
}
