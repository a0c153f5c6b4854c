package train

import (
	"math"
	"strings"

	"github.com/d2v/d2v/internal/floats"
	"github.com/d2v/d2v/internal/graphrun"
	"github.com/d2v/d2v/internal/par"
	"github.com/d2v/d2v/pkg/config"
	"github.com/d2v/d2v/pkg/model"
	"github.com/d2v/d2v/pkg/vmath"
)

// AdamW is torch's AdamW (decoupled weight decay), updating parameters in
// place with moments kept per parameter name (so order changes are safe) in
// the parameter's dtype, as torch keeps them (float32 halves the memory
// traffic of this memory-bound update):
//
//	p *= 1 - lr*wd               (decayed parameters only)
//	m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2
//	p -= lr/(1-b1^t) * m / (sqrt(v)/sqrt(1-b2^t) + eps)
type AdamW struct {
	Beta1, Beta2, Eps, WD float64
	Decay                 func(name string) bool
	LRScale               func(name string) float64 // per-parameter lr factor (layer decay); nil = 1
	T                     int64                     // optimiser steps taken
	M, V                  map[string]any            // []float32 or []float64, as the parameter
}

// NewAdamW returns an optimiser with zero moments.
func NewAdamW(b1, b2, eps, wd float64, decay func(string) bool) *AdamW {
	return &AdamW{Beta1: b1, Beta2: b2, Eps: eps, WD: wd, Decay: decay, M: map[string]any{}, V: map[string]any{}}
}

// Step applies one update with learning rate lr; grads[i] belongs to names[i]
// and is scaled by coef (the clipping coefficient) first.
func (o *AdamW) Step(p *model.Params, names []string, grads []any, lr, coef float64) {
	o.T++
	bc1 := 1 - math.Pow(o.Beta1, float64(o.T))
	bc2 := math.Sqrt(1 - math.Pow(o.Beta2, float64(o.T)))
	for i, name := range names {
		t := p.Get(name)
		if o.M[name] == nil {
			o.M[name] = graphrun.ZerosLike(t.Data()) // moments in the parameter's dtype
			o.V[name] = graphrun.ZerosLike(t.Data())
		}
		plr := lr
		if o.LRScale != nil {
			plr *= o.LRScale(name)
		}
		shrink := 1.0
		if o.Decay(name) {
			shrink = 1 - plr*o.WD
		}
		switch w := t.Data().(type) {
		case []float32:
			update32(o, w, grads[i].([]float32), o.M[name].([]float32), o.V[name].([]float32), plr, coef, shrink, bc1, bc2)
		case []float64:
			update(o, w, grads[i].([]float64), o.M[name].([]float64), o.V[name].([]float64), plr, coef, shrink, bc1, bc2)
		}
	}
}

// update32 is update for float32 through vmath.AdamW (8-lane assembly
// where available; the same operations as adamw, so the same bits).
func update32(o *AdamW, w, g, m, v []float32, lr, coef, shrink, bc1, bc2 float64) {
	c := vmath.AdamWConst{B1: float32(o.Beta1), B2: float32(o.Beta2), Eps: float32(o.Eps), Step: float32(lr / bc1),
		Coef: float32(coef), Shrink: float32(shrink), BC2: float32(bc2)}
	chunks(len(w), func(lo, hi int) { vmath.AdamW(w[lo:hi], g[lo:hi], m[lo:hi], v[lo:hi], c) })
}

func update[F float32 | float64](o *AdamW, w, g, m, v []F, lr, coef, shrink, bc1, bc2 float64) {
	chunks(len(w), func(lo, hi int) {
		adamw(w[lo:hi], g[lo:hi], m[lo:hi], v[lo:hi], F(o.Beta1), F(o.Beta2), F(o.Eps), F(lr/bc1), F(coef), F(shrink), F(bc2))
	})
}

func adamw[F float32 | float64](w, g, m, v []F, b1, b2, eps, step, coef, shrink, bc2 F) {
	for j := range w {
		gj := g[j] * coef
		m[j] = b1*m[j] + (1-b1)*gj
		v[j] = b2*v[j] + (1-b2)*gj*gj
		w[j] = w[j]*shrink - step*m[j]/(F(math.Sqrt(float64(v[j])))/bc2+eps)
	}
}

// chunks runs f over [0,n) in contiguous chunks, one per core, inline when
// small. Elementwise updates give the same bits however they are split.
func chunks(n int, f func(lo, hi int)) { par.For(n, 1<<13, func(_, lo, hi int) { f(lo, hi) }) }

// GradNorm is the global L2 norm of all gradients: squares summed in
// float64 in fixed blocks of 16K elements split over the cores, then the
// blocks in order, so the result does not depend on the number of cores.
func GradNorm(grads []any) float64 {
	sizes := make([]int, len(grads))
	for i, g := range grads {
		sizes[i] = max(floats.Len(g), 0)
	}
	const block = 1 << 14
	total := 0
	for _, n := range sizes {
		total += n
	}
	part := make([]float64, (total+block-1)/block)
	par.ForBlocks(sizes, block, func(b, i, lo, hi int) {
		switch x := grads[i].(type) {
		case []float32:
			part[b] += vmath.SumSquares(x[lo:hi])
		case []float64:
			var s float64
			for _, v := range x[lo:hi] {
				s += v * v
			}
			part[b] += s
		}
	})
	var s float64
	for _, v := range part {
		s += v
	}
	return math.Sqrt(s)
}

// ClipCoef is torch.nn.utils.clip_grad_norm_'s factor: min(1, max/(norm+1e-6)); 1 when max <= 0.
func ClipCoef(norm, maxNorm float64) float64 {
	if maxNorm <= 0 {
		return 1
	}
	return math.Min(1, maxNorm/(norm+1e-6))
}

// ScheduleLR is the learning rate of step (from 0) of a total-step run
// under the configured schedule.
func ScheduleLR(o config.Optim, step, total int) float64 {
	if o.Schedule == config.ScheduleTriStage {
		return TriStageLR(step, o.WarmupSteps, o.DecaySteps, total, o.LR, o.MinLR)
	}
	return LR(step, o.WarmupSteps, total, o.LR, o.MinLR, o.Schedule == config.ScheduleCosine)
}

// TriStageLR is fairseq's tri_stage schedule (the data2vec speech recipe:
// 3% warmup, 90% hold, 7% decay): linear warmup to peak as LR's, hold at
// peak, then over the last decay steps an exponential decay from peak to
// minLR, lr = peak * (minLR/peak)^(s/decay) at s steps into it (fairseq's
// exp(-decay_factor*s) with final_lr_scale = minLR/peak), or a linear one
// when minLR is 0. After total steps it stays at minLR. A run shorter than
// warmup + decay (a --steps override) starts its decay right after warmup.
func TriStageLR(step, warmup, decay, total int, peak, minLR float64) float64 {
	if step < warmup {
		return peak * float64(step+1) / float64(warmup)
	}
	start := max(total-decay, warmup)
	if decay <= 0 || step < start {
		return peak
	}
	decay = max(total-start, 1)
	p := math.Min(1, float64(step-start+1)/float64(decay))
	if minLR <= 0 {
		return peak * (1 - p)
	}
	return peak * math.Pow(minLR/peak, p)
}

// LR is linear warmup to peak over warmup steps, then cosine decay to minLR
// at total steps (or constant when cosine is false); step counts from 0.
func LR(step, warmup, total int, peak, minLR float64, cosine bool) float64 {
	if step < warmup {
		return peak * float64(step+1) / float64(warmup)
	}
	if !cosine || total <= warmup {
		return peak
	}
	p := math.Min(1, float64(step-warmup)/float64(total-warmup))
	return minLR + 0.5*(peak-minLR)*(1+math.Cos(math.Pi*p))
}

// Decayed reports whether a parameter gets weight decay: linear and embedding
// weights (names ending in .w), not biases, norms, positions or mask_emb.
func Decayed(name string) bool { return strings.HasSuffix(name, ".w") }

// Decayed2 reports whether a data2vec 2.0 parameter gets weight decay: the
// v1 rule (names ending in .w, now including the decoder's convolutions
// and projections) plus the CLS token (fairseq decays every parameter with
// more than one dimension, and its extra tokens are (1, 1, D)).
func Decayed2(name string) bool { return Decayed(name) || name == "student.cls" }
