package ops

import (
	"math"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Naive plain-Go references, written independently of the kernels: loops
// straight from the formulas, float64 only.

func refLinear(n, in, out int) func([][]float64) []float64 {
	return func(a [][]float64) []float64 {
		x, w, b := a[0], a[1], a[2]
		y := make([]float64, n*out)
		for r := 0; r < n; r++ {
			for j := 0; j < out; j++ {
				s := b[j]
				for k := 0; k < in; k++ {
					s += x[r*in+k] * w[k*out+j]
				}
				y[r*out+j] = s
			}
		}
		return y
	}
}

func refLayerNorm(n, d int, eps float64) func([][]float64) []float64 {
	return func(a [][]float64) []float64 {
		x, g, b := a[0], a[1], a[2]
		y := make([]float64, n*d)
		for r := 0; r < n; r++ {
			var mu, v float64
			for j := 0; j < d; j++ {
				mu += x[r*d+j] / float64(d)
			}
			for j := 0; j < d; j++ {
				v += (x[r*d+j] - mu) * (x[r*d+j] - mu) / float64(d)
			}
			for j := 0; j < d; j++ {
				y[r*d+j] = (x[r*d+j]-mu)/math.Sqrt(v+eps)*g[j] + b[j]
			}
		}
		return y
	}
}

func refGELU(a [][]float64) []float64 {
	y := make([]float64, len(a[0]))
	for i, v := range a[0] {
		y[i] = v * 0.5 * (1 + math.Erf(v/math.Sqrt2))
	}
	return y
}

func refAttention(b, t, d, h int) func([][]float64) []float64 { return refAttentionQK(b, t, t, d, h) }

// refAttentionQK: tq query rows per sample against tk key/value rows.
func refAttentionQK(b, tq, tk, d, h int) func([][]float64) []float64 {
	return func(a [][]float64) []float64 {
		q, k, v := a[0], a[1], a[2]
		dh := d / h
		y := make([]float64, b*tq*d)
		for s := 0; s < b; s++ {
			for hh := 0; hh < h; hh++ {
				for i := 0; i < tq; i++ {
					sc := make([]float64, tk)
					mx := math.Inf(-1)
					for j := 0; j < tk; j++ {
						for c := 0; c < dh; c++ {
							sc[j] += q[(s*tq+i)*d+hh*dh+c] * k[(s*tk+j)*d+hh*dh+c]
						}
						sc[j] /= math.Sqrt(float64(dh))
						mx = math.Max(mx, sc[j])
					}
					var z float64
					for j := range sc {
						sc[j] = math.Exp(sc[j] - mx)
						z += sc[j]
					}
					for j := 0; j < tk; j++ {
						for c := 0; c < dh; c++ {
							y[(s*tq+i)*d+hh*dh+c] += sc[j] / z * v[(s*tk+j)*d+hh*dh+c]
						}
					}
				}
			}
		}
		return y
	}
}

func refMaskPos(n, t, d int) func([][]float64) []float64 {
	return func(a [][]float64) []float64 {
		e, m, p, mask := a[0], a[1], a[2], a[3]
		y := make([]float64, n*d)
		for r := 0; r < n; r++ {
			for j := 0; j < d; j++ {
				if mask[r] == 1 {
					y[r*d+j] = m[j] + p[(r%t)*d+j]
				} else {
					y[r*d+j] = e[r*d+j] + p[(r%t)*d+j]
				}
			}
		}
		return y
	}
}

func refGather(d int) func([][]float64) []float64 {
	return func(a [][]float64) []float64 {
		var y []float64
		for _, i := range a[1] {
			y = append(y, a[0][int(i)*d:int(i)*d+d]...)
		}
		return y
	}
}

func refRegLoss(beta, coef float64) func([][]float64) []float64 {
	return func(a [][]float64) []float64 {
		var s float64
		for i := range a[0] {
			d := a[0][i] - a[1][i]
			switch {
			case beta == 0:
				s += d * d
			case math.Abs(d) < beta:
				s += 0.5 * d * d / beta
			default:
				s += math.Abs(d) - 0.5*beta
			}
		}
		return []float64{s * coef}
	}
}

func refCE(b, c int) func([][]float64) []float64 {
	return func(a [][]float64) []float64 {
		var loss float64
		for r := 0; r < b; r++ {
			var z float64
			for j := 0; j < c; j++ {
				z += math.Exp(a[0][r*c+j])
			}
			for j := 0; j < c; j++ {
				loss -= a[1][r*c+j] * math.Log(math.Exp(a[0][r*c+j])/z)
			}
		}
		return []float64{loss / float64(b)}
	}
}

func refWeightedPool(b, t, d int) func([][]float64) []float64 {
	return func(a [][]float64) []float64 {
		y := make([]float64, b*d)
		for r := 0; r < b*t; r++ {
			for j := 0; j < d; j++ {
				y[(r/t)*d+j] += a[1][r] * a[0][r*d+j]
			}
		}
		return y
	}
}

func sh(s ...int) tensor.Shape { return tensor.Shape(s) }

func cases() []opCase {
	const B, T, D, H = 2, 3, 4, 2
	mask := []float64{1, 0, 0, 0, 1, 1}
	probs := []float64{0.1, 0.7, 0.2, 0, 0, 1} // (2,3) targets, rows sum to 1
	return []opCase{
		{name: "linear", shapes: []tensor.Shape{sh(5, 3), sh(3, 4), sh(4)}, diff: []bool{true, true, true},
			build: func(n []*G.Node) (*G.Node, error) { return Linear(n[0], n[1], n[2]) }, ref: refLinear(5, 3, 4)},
		{name: "layernorm", shapes: []tensor.Shape{sh(B*T, D), sh(D), sh(D)}, diff: []bool{true, true, true},
			build: func(n []*G.Node) (*G.Node, error) { return LayerNorm(n[0], n[1], n[2], 1e-5) }, ref: refLayerNorm(B*T, D, 1e-5)},
		{name: "gelu", shapes: []tensor.Shape{sh(B*T, D)}, diff: []bool{true},
			build: func(n []*G.Node) (*G.Node, error) { return GELU(n[0]) }, ref: refGELU},
		{name: "attention", shapes: []tensor.Shape{sh(B*T, D), sh(B*T, D), sh(B*T, D)}, diff: []bool{true, true, true},
			build: func(n []*G.Node) (*G.Node, error) { return Attention(n[0], n[1], n[2], B, H) }, ref: refAttention(B, T, D, H)},
		{name: "attention-2-of-3-queries", shapes: []tensor.Shape{sh(B*2, D), sh(B*T, D), sh(B*T, D)}, diff: []bool{true, true, true},
			build: func(n []*G.Node) (*G.Node, error) { return Attention(n[0], n[1], n[2], B, H) }, ref: refAttentionQK(B, 2, T, D, H)},
		{name: "maskpos", shapes: []tensor.Shape{sh(B*T, D), sh(D), sh(T, D), sh(B * T)}, vals: [][]float64{nil, nil, nil, mask},
			diff:  []bool{true, true, true, false},
			build: func(n []*G.Node) (*G.Node, error) { return MaskPos(n[0], n[1], n[2], n[3]) }, ref: refMaskPos(B*T, T, D)},
		{name: "emit", shapes: []tensor.Shape{sh(B*T, D)}, diff: []bool{true},
			build: func(n []*G.Node) (*G.Node, error) {
				return Emit(n[0], make([]float64, B*T*D), make(chan struct{}, 1))
			}, ref: func(a [][]float64) []float64 { return append([]float64(nil), a[0]...) }},
		{name: "gather", shapes: []tensor.Shape{sh(4, 3), sh(5)}, vals: [][]float64{nil, {3, 0, 3, 1, 2}},
			diff:  []bool{true, false},
			build: func(n []*G.Node) (*G.Node, error) { return Gather(n[0], n[1]) }, ref: refGather(3)},
		{name: "smoothl1-mean", shapes: []tensor.Shape{sh(4, 3), sh(4, 3)}, diff: []bool{true, false},
			build: func(n []*G.Node) (*G.Node, error) { return RegressionLoss(n[0], n[1], 0.7, 1.0/12) }, ref: refRegLoss(0.7, 1.0/12)},
		{name: "l2-d2v", shapes: []tensor.Shape{sh(4, 3), sh(4, 3)}, diff: []bool{true, false},
			build: func(n []*G.Node) (*G.Node, error) { return RegressionLoss(n[0], n[1], 0, 0.25/math.Sqrt(3)) },
			ref:   refRegLoss(0, 0.25/math.Sqrt(3))},
		{name: "softmax-ce", shapes: []tensor.Shape{sh(2, 3), sh(2, 3)}, vals: [][]float64{nil, probs}, diff: []bool{true, false},
			build: func(n []*G.Node) (*G.Node, error) { return SoftmaxCE(n[0], n[1]) }, ref: refCE(2, 3)},
		{name: "weightedpool", shapes: []tensor.Shape{sh(B*T, D), sh(B * T)}, vals: [][]float64{nil, {0.5, 0.5, 0, 1, 0, 0}},
			diff:  []bool{true, false},
			build: func(n []*G.Node) (*G.Node, error) { return WeightedPool(n[0], n[1], B) }, ref: refWeightedPool(B, T, D)},
	}
}
