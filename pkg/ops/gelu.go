package ops

import (
	"fmt"
	"math"

	"github.com/d2v/d2v/pkg/vmath"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// GELU is the exact (erf) Gaussian error linear unit, elementwise:
// gelu(x) = x/2 * (1 + erf(x/sqrt 2)). Gorgonia has no Erf. float32 runs on
// pkg/vmath (AVX2, erf to 1.5e-7); float64 (gradient checks) on math.Erf.
func GELU(x *G.Node) (*G.Node, error) {
	return apply(gelu{shape: x.Shape().Clone()}, x)
}

type gelu struct{ shape tensor.Shape }

func (k gelu) name() string             { return fmt.Sprintf("GELU%v", k.shape) }
func (k gelu) inShapes() []tensor.Shape { return []tensor.Shape{k.shape} }
func (k gelu) outShape() tensor.Shape   { return k.shape }
func (k gelu) diff() []bool             { return []bool{true} }

func (k gelu) fwd(out any, in []any) {
	dispatch(out, func() { geluFwd(as[float32](out), as[float32](in[0])) },
		func() { geluFwd(as[float64](out), as[float64](in[0])) })
}

func (k gelu) bwd(gin, in []any, _, gout any) {
	dispatch(gout, func() { geluBwd(as[float32](gin[0]), as[float32](in[0]), as[float32](gout)) },
		func() { geluBwd(as[float64](gin[0]), as[float64](in[0]), as[float64](gout)) })
}

const invSqrt2 = 0.70710678118654752440
const invSqrt2Pi = 0.39894228040143267794

func geluFwd[T Float](y, x []T) {
	if y32, ok := any(y).([]float32); ok { // AVX2 kernel (or its pure-Go twin)
		x32 := any(x).([]float32)
		parallel(len(x), 4096, func(_, lo, hi int) { vmath.GELU(y32[lo:hi], x32[lo:hi]) })
		return
	}
	parallel(len(x), 4096, func(_, lo, hi int) { // float64: the gradient-check path
		for i := lo; i < hi; i++ {
			v := float64(x[i])
			y[i] = T(0.5 * v * (1 + math.Erf(v*invSqrt2)))
		}
	})
}

func geluBwd[T Float](dx, x, dy []T) {
	if dx32, ok := any(dx).([]float32); ok {
		x32, dy32 := any(x).([]float32), any(dy).([]float32)
		parallel(len(x), 4096, func(_, lo, hi int) { vmath.GELUGrad(dx32[lo:hi], x32[lo:hi], dy32[lo:hi]) })
		return
	}
	parallel(len(x), 4096, func(_, lo, hi int) {
		for i := lo; i < hi; i++ {
			v := float64(x[i])
			d := 0.5*(1+math.Erf(v*invSqrt2)) + v*invSqrt2Pi*math.Exp(-0.5*v*v)
			dx[i] = T(float64(dy[i]) * d)
		}
	})
}
