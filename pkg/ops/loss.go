package ops

import (
	"fmt"
	"math"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// RegressionLoss is the data2vec regression loss as a scalar node:
// loss = coef * sum(el(pred - target)), el(d) = 0.5 d^2/beta if |d| < beta
// else |d| - 0.5 beta (smooth L1), or d^2 when beta == 0. The caller folds
// the reduction into coef (mean: 1/(M*D); d2v: scale/M). target gets no gradient.
func RegressionLoss(pred, target *G.Node, beta, coef float64) (*G.Node, error) {
	s := pred.Shape()
	if s.Dims() != 2 || !s.Eq(target.Shape()) {
		return nil, fmt.Errorf("regression loss: pred %v and target %v differ", s, target.Shape())
	}
	return apply(regLoss{m: s[0], d: s[1], beta: beta, coef: coef}, pred, target)
}

type regLoss struct {
	m, d       int
	beta, coef float64
}

func (k regLoss) name() string {
	return fmt.Sprintf("RegLoss(%d,%d,beta=%g,coef=%g)", k.m, k.d, k.beta, k.coef)
}
func (k regLoss) inShapes() []tensor.Shape { return []tensor.Shape{{k.m, k.d}, {k.m, k.d}} }
func (k regLoss) outShape() tensor.Shape   { return tensor.ScalarShape() }
func (k regLoss) diff() []bool             { return []bool{true, false} }

func (k regLoss) fwd(out any, in []any) {
	dispatch(out, func() { as[float32](out)[0] = float32(regLossFwd(k, as[float32](in[0]), as[float32](in[1]))) },
		func() { as[float64](out)[0] = regLossFwd(k, as[float64](in[0]), as[float64](in[1])) })
}

func (k regLoss) bwd(gin, in []any, _, gout any) {
	dispatch(gout, func() {
		regLossBwd(k, as[float32](gin[0]), as[float32](in[0]), as[float32](in[1]), as[float32](gout)[0])
	},
		func() {
			regLossBwd(k, as[float64](gin[0]), as[float64](in[0]), as[float64](in[1]), as[float64](gout)[0])
		})
}

// ElementLoss is the per-element data2vec loss of a difference d.
func ElementLoss(d, beta float64) float64 {
	if beta == 0 {
		return d * d
	}
	if ad := math.Abs(d); ad < beta {
		return 0.5 * d * d / beta
	}
	return math.Abs(d) - 0.5*beta
}

// ElementGrad is d ElementLoss / d d.
func ElementGrad(d, beta float64) float64 {
	switch {
	case beta == 0:
		return 2 * d
	case math.Abs(d) < beta:
		return d / beta
	case d > 0:
		return 1
	default:
		return -1
	}
}

func regLossFwd[T Float](k regLoss, p, t []T) float64 {
	var s float64
	for i := range p {
		s += ElementLoss(float64(p[i]-t[i]), k.beta)
	}
	return s * k.coef
}

func regLossBwd[T Float](k regLoss, dp, p, t []T, g T) {
	c := float64(g) * k.coef
	for i := range p {
		dp[i] = T(c * ElementGrad(float64(p[i]-t[i]), k.beta))
	}
}

// SoftmaxCE is the mean over rows of the cross-entropy between softmax(logits)
// (B, C) and target distributions (B, C) (one-hot or label-smoothed).
func SoftmaxCE(logits, target *G.Node) (*G.Node, error) {
	s := logits.Shape()
	if s.Dims() != 2 || !s.Eq(target.Shape()) {
		return nil, fmt.Errorf("softmax cross-entropy: logits %v and target %v differ", s, target.Shape())
	}
	return apply(softmaxCE{b: s[0], c: s[1]}, logits, target)
}

type softmaxCE struct{ b, c int }

func (k softmaxCE) name() string             { return fmt.Sprintf("SoftmaxCE(%d,%d)", k.b, k.c) }
func (k softmaxCE) inShapes() []tensor.Shape { return []tensor.Shape{{k.b, k.c}, {k.b, k.c}} }
func (k softmaxCE) outShape() tensor.Shape   { return tensor.ScalarShape() }
func (k softmaxCE) diff() []bool             { return []bool{true, false} }

func (k softmaxCE) fwd(out any, in []any) {
	dispatch(out, func() { as[float32](out)[0] = float32(ceFwd(k, as[float32](in[0]), as[float32](in[1]))) },
		func() { as[float64](out)[0] = ceFwd(k, as[float64](in[0]), as[float64](in[1])) })
}

func (k softmaxCE) bwd(gin, in []any, _, gout any) {
	dispatch(gout, func() { ceBwd(k, as[float32](gin[0]), as[float32](in[0]), as[float32](in[1]), as[float32](gout)[0]) },
		func() { ceBwd(k, as[float64](gin[0]), as[float64](in[0]), as[float64](in[1]), as[float64](gout)[0]) })
}

// logSumExp returns max and log(sum(exp(row - max))) + max.
func logSumExp[T Float](row []T) float64 {
	mx := float64(row[0])
	for _, v := range row[1:] {
		mx = math.Max(mx, float64(v))
	}
	var s float64
	for _, v := range row {
		s += math.Exp(float64(v) - mx)
	}
	return mx + math.Log(s)
}

func ceFwd[T Float](k softmaxCE, x, t []T) float64 {
	var loss float64
	for r := 0; r < k.b; r++ {
		xr, tr := x[r*k.c:(r+1)*k.c], t[r*k.c:(r+1)*k.c]
		lse := logSumExp(xr)
		for j := range xr {
			loss -= float64(tr[j]) * (float64(xr[j]) - lse)
		}
	}
	return loss / float64(k.b)
}

func ceBwd[T Float](k softmaxCE, dx, x, t []T, g T) {
	c := float64(g) / float64(k.b)
	for r := 0; r < k.b; r++ {
		xr, tr, dr := x[r*k.c:(r+1)*k.c], t[r*k.c:(r+1)*k.c], dx[r*k.c:(r+1)*k.c]
		lse := logSumExp(xr)
		var ts float64
		for _, v := range tr {
			ts += float64(v)
		}
		for j := range xr {
			dr[j] = T(c * (math.Exp(float64(xr[j])-lse)*ts - float64(tr[j])))
		}
	}
}

// WeightedPool sums the rows of x (B*T, D) per sequence with weights w (B*T):
// y[b] = sum_t w[b*T+t] x[b*T+t], (B, D). With w = 1/len on real tokens and 0
// on padding it is the mean over real tokens; w gets no gradient.
func WeightedPool(x, w *G.Node, batch int) (*G.Node, error) {
	s := x.Shape()
	if s.Dims() != 2 || s[0]%batch != 0 || w.Dims() != 1 || w.Shape()[0] != s[0] {
		return nil, fmt.Errorf("weighted pool: x %v, w %v do not split into batch %d", s, w.Shape(), batch)
	}
	return apply(weightedPool{b: batch, t: s[0] / batch, d: s[1]}, x, w)
}

type weightedPool struct{ b, t, d int }

func (k weightedPool) name() string {
	return fmt.Sprintf("WeightedPool(B=%d,T=%d,D=%d)", k.b, k.t, k.d)
}
func (k weightedPool) inShapes() []tensor.Shape {
	return []tensor.Shape{{k.b * k.t, k.d}, {k.b * k.t}}
}
func (k weightedPool) outShape() tensor.Shape { return tensor.Shape{k.b, k.d} }
func (k weightedPool) diff() []bool           { return []bool{true, false} }

func (k weightedPool) fwd(out any, in []any) {
	dispatch(out, func() { wpoolFwd(k, as[float32](out), as[float32](in[0]), as[float32](in[1])) },
		func() { wpoolFwd(k, as[float64](out), as[float64](in[0]), as[float64](in[1])) })
}

func (k weightedPool) bwd(gin, in []any, _, gout any) {
	dispatch(gout, func() { wpoolBwd(k, as[float32](gin[0]), as[float32](in[1]), as[float32](gout)) },
		func() { wpoolBwd(k, as[float64](gin[0]), as[float64](in[1]), as[float64](gout)) })
}

func wpoolFwd[T Float](k weightedPool, y, x, w []T) {
	clear(y)
	for r := 0; r < k.b*k.t; r++ {
		yr, wr := y[(r/k.t)*k.d:(r/k.t+1)*k.d], w[r]
		for j, v := range x[r*k.d : (r+1)*k.d] {
			yr[j] += wr * v
		}
	}
}

func wpoolBwd[T Float](k weightedPool, dx, w, dy []T) {
	for r := 0; r < k.b*k.t; r++ {
		g, wr := dy[(r/k.t)*k.d:(r/k.t+1)*k.d], w[r]
		for j, v := range g {
			dx[r*k.d+j] = wr * v
		}
	}
}
