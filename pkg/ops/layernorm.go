package ops

import (
	"fmt"
	"math"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/d2v/d2v/pkg/vmath"
)

// LayerNorm normalises each row of x (N, D) over D (biased variance) and
// applies the gain g (D) and bias b (D): y = (x-mean)/sqrt(var+eps)*g + b.
func LayerNorm(x, g, b *G.Node, eps float64) (*G.Node, error) {
	if x.Dims() != 2 {
		return nil, fmt.Errorf("layernorm %s: want 2-D x, got %v", g.Name(), x.Shape())
	}
	return apply(layerNorm{n: x.Shape()[0], d: x.Shape()[1], eps: eps}, x, g, b)
}

type layerNorm struct {
	n, d int
	eps  float64
}

func (k layerNorm) name() string { return fmt.Sprintf("LayerNorm(%d,%d,eps=%g)", k.n, k.d, k.eps) }
func (k layerNorm) inShapes() []tensor.Shape {
	return []tensor.Shape{{k.n, k.d}, {k.d}, {k.d}}
}
func (k layerNorm) outShape() tensor.Shape { return tensor.Shape{k.n, k.d} }
func (k layerNorm) diff() []bool           { return []bool{true, true, true} }

func (k layerNorm) fwd(out any, in []any) {
	dispatch(out, func() { lnFwd32(k, as[float32](out), as[float32](in[0]), as[float32](in[1]), as[float32](in[2])) },
		func() { lnFwd(k, as[float64](out), as[float64](in[0]), as[float64](in[1]), as[float64](in[2])) })
}

func (k layerNorm) bwd(gin, in []any, _, gout any) {
	dispatch(gout, func() {
		lnBwd32(k, as[float32](gin[0]), as[float32](gin[1]), as[float32](gin[2]), as[float32](in[0]), as[float32](in[1]), as[float32](gout))
	}, func() {
		lnBwd(k, as[float64](gin[0]), as[float64](gin[1]), as[float64](gin[2]), as[float64](in[0]), as[float64](in[1]), as[float64](gout))
	})
}

// rowStats returns the mean and 1/sqrt(var+eps) of a row (two passes,
// float64 accumulation in four independent chains so the adds pipeline).
func rowStats[T Float](row []T, eps float64) (mean, rstd float64) {
	var s0, s1, s2, s3 float64
	n := len(row)
	i := 0
	for ; i+4 <= n; i += 4 {
		s0 += float64(row[i])
		s1 += float64(row[i+1])
		s2 += float64(row[i+2])
		s3 += float64(row[i+3])
	}
	for ; i < n; i++ {
		s0 += float64(row[i])
	}
	mean = (s0 + s1 + s2 + s3) / float64(n)
	var q0, q1, q2, q3 float64
	i = 0
	for ; i+4 <= n; i += 4 {
		d0, d1 := float64(row[i])-mean, float64(row[i+1])-mean
		d2, d3 := float64(row[i+2])-mean, float64(row[i+3])-mean
		q0 += d0 * d0
		q1 += d1 * d1
		q2 += d2 * d2
		q3 += d3 * d3
	}
	for ; i < n; i++ {
		d := float64(row[i]) - mean
		q0 += d * d
	}
	return mean, 1 / math.Sqrt((q0+q1+q2+q3)/float64(n)+eps)
}

// lnFwd32 and lnBwd32 are the float32 op: row kernels of pkg/vmath (8-lane
// assembly where the CPU has AVX2+FMA), float32 accumulation like torch's
// float32 LayerNorm. lnFwd and lnBwd (float64 accumulation) serve float64
// graphs and are the references of the float32 path's tests.
func lnFwd32(k layerNorm, y, x, g, b []float32) {
	eps := float32(k.eps)
	parallel(k.n, 16, func(_, lo, hi int) {
		for r := lo; r < hi; r++ {
			xr := x[r*k.d : (r+1)*k.d]
			mean, rstd := vmath.LNStats(xr, eps)
			vmath.LNApply(y[r*k.d:(r+1)*k.d], xr, g, b, mean, rstd)
		}
	})
}

func lnBwd32(k layerNorm, dx, dg, db, x, g, dy []float32) {
	w := maxWorkers()
	eps := float32(k.eps)
	pg, pb := make([]float32, w*k.d), make([]float32, w*k.d)
	parallel(k.n, 16, func(wk, lo, hi int) {
		sg, sb := pg[wk*k.d:(wk+1)*k.d], pb[wk*k.d:(wk+1)*k.d]
		for r := lo; r < hi; r++ {
			xr := x[r*k.d : (r+1)*k.d]
			mean, rstd := vmath.LNStats(xr, eps)
			vmath.LNBackward(dx[r*k.d:(r+1)*k.d], sg, sb, xr, g, dy[r*k.d:(r+1)*k.d], mean, rstd)
		}
	})
	for j := 0; j < k.d; j++ {
		var s, t float32
		for wk := 0; wk < w; wk++ {
			s += pg[wk*k.d+j]
			t += pb[wk*k.d+j]
		}
		dg[j], db[j] = s, t
	}
}

func lnFwd[T Float](k layerNorm, y, x, g, b []T) {
	parallel(k.n, 16, func(_, lo, hi int) {
		for r := lo; r < hi; r++ {
			xr, yr := x[r*k.d:(r+1)*k.d], y[r*k.d:(r+1)*k.d]
			mean, rstd := rowStats(xr, k.eps)
			for j, v := range xr {
				yr[j] = T((float64(v)-mean)*rstd)*g[j] + b[j]
			}
		}
	})
}

func lnBwd[T Float](k layerNorm, dx, dg, db, x, g, dy []T) {
	w := maxWorkers()
	pg, pb := make([]float64, w*k.d), make([]float64, w*k.d)
	parallel(k.n, 16, func(wk, lo, hi int) {
		sg, sb := pg[wk*k.d:(wk+1)*k.d], pb[wk*k.d:(wk+1)*k.d]
		xhat := make([]float64, k.d)
		for r := lo; r < hi; r++ {
			xr, dyr, dxr := x[r*k.d:(r+1)*k.d], dy[r*k.d:(r+1)*k.d], dx[r*k.d:(r+1)*k.d]
			mean, rstd := rowStats(xr, k.eps)
			var m1, m2 float64 // means of dxhat and dxhat*xhat
			for j, v := range xr {
				xh := (float64(v) - mean) * rstd
				xhat[j] = xh
				dxh := float64(dyr[j]) * float64(g[j])
				m1 += dxh
				m2 += dxh * xh
				sg[j] += float64(dyr[j]) * xh
				sb[j] += float64(dyr[j])
			}
			m1 /= float64(k.d)
			m2 /= float64(k.d)
			for j := range xr {
				dxh := float64(dyr[j]) * float64(g[j])
				dxr[j] = T(rstd * (dxh - m1 - xhat[j]*m2))
			}
		}
	})
	for j := 0; j < k.d; j++ {
		var s, t float64
		for wk := 0; wk < w; wk++ {
			s += pg[wk*k.d+j]
			t += pb[wk*k.d+j]
		}
		dg[j], db[j] = T(s), T(t)
	}
}
