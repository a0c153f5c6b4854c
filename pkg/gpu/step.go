package gpu

import (
	"errors"
	"fmt"
	"math"

	"github.com/d2v/d2v/pkg/model"
	"github.com/d2v/d2v/pkg/teacher"
)

// Config fixes everything the step's buffers and launches depend on; it
// mirrors step.Setup with the loss already reduced to (Beta, Coef).
type Config struct {
	Spec         model.Spec
	Mod          model.Modality // model.Tokens or model.Patches
	Batch, NMask int
	TargetLayer  string // "block" | "ffn"
	Scope        string // "all" | "blocks"
	Target       teacher.TargetSpec
	Beta, Coef   float64 // loss: coef * sum(el(pred - target))
	KeepInput    bool    // masked positions keep their input (text)
}

// ErrUnsupported marks a setting the GPU step does not implement.
var ErrUnsupported = errors.New("not supported on the GPU")

// Engine holds every parameter, gradient, moment and activation of a
// data2vec step on one Device.
type Engine struct {
	dev                 Device
	cfg                 Config
	tokens              bool
	B, T, D, H, F, P, N int
	M                   int // masked rows, B*NMask
	Names               []string
	pairs               [][2]string
	w, g, m, v          map[string]Buf
	flatG               Buf // every gradient, for one SumSq
	pos                 Buf // fixed sin-cos table, when positions are not learned
	in                  struct{ x, xt, mask, zero, idx Buf }
	st, tc              *acts
	bw                  bwdBufs
	pred, tgt, dpred    Buf
	avg, tmp            Buf
	sizes               map[string]int
}

// New allocates the step for the student+head parameters names (their
// order is the gradient order) and the teacher pairs (teacher, student).
func New(dev Device, cfg Config, student, teach *model.Params, names []string, pairs [][2]string) (*Engine, error) {
	s := cfg.Spec
	e := &Engine{dev: dev, cfg: cfg, B: cfg.Batch, T: cfg.Mod.NumTokens(), D: s.Dim, H: s.Heads, F: s.FFN,
		Names: names, pairs: pairs, w: map[string]Buf{}, g: map[string]Buf{}, m: map[string]Buf{}, v: map[string]Buf{},
		sizes: map[string]int{}}
	switch mod := cfg.Mod.(type) {
	case model.Tokens:
		e.tokens = true
	case model.Patches:
		e.P = mod.PatchDim
	default:
		return nil, fmt.Errorf("gpu: modality %q: %w (image, tokens and text are)", cfg.Mod.Name(), ErrUnsupported)
	}
	e.N, e.M = e.B*e.T, e.B*cfg.NMask
	if cfg.TargetLayer != "block" && cfg.TargetLayer != "ffn" {
		return nil, fmt.Errorf("gpu: target layer %q: %w", cfg.TargetLayer, ErrUnsupported)
	}
	for _, p := range []*model.Params{student, teach} {
		for _, n := range p.Names() {
			e.sizes[n] = p.Get(n).Shape().TotalSize()
			e.w[n] = dev.Alloc(e.sizes[n])
		}
	}
	total := 0
	for _, n := range names {
		if _, ok := e.sizes[n]; !ok {
			return nil, fmt.Errorf("gpu: no parameter %q", n)
		}
		total += e.sizes[n]
	}
	e.flatG = dev.Alloc(total)
	mf, vf := dev.Alloc(total), dev.Alloc(total)
	off := 0
	for _, n := range names {
		k := e.sizes[n]
		e.g[n], e.m[n], e.v[n] = e.flatG.Slice(off, off+k), mf.Slice(off, off+k), vf.Slice(off, off+k)
		off += k
	}
	if !s.LearnedPos {
		e.pos = dev.Alloc(e.T * e.D)
		dev.Upload(e.pos, f32(cfg.Mod.PosTable()))
	}
	xn := e.N
	if !e.tokens {
		xn = e.N * e.P
	}
	e.in.x, e.in.xt = dev.Alloc(xn), dev.Alloc(xn)
	e.in.mask, e.in.zero, e.in.idx = dev.Alloc(e.N), dev.Alloc(e.N), dev.Alloc(e.M)
	e.st, e.tc = e.newActs(), e.newActs()
	e.bw = e.newBwd()
	e.pred, e.tgt, e.dpred = dev.Alloc(e.M*e.D), dev.Alloc(e.M*e.D), dev.Alloc(e.M*e.D)
	e.avg, e.tmp = dev.Alloc(e.N*e.D), dev.Alloc(e.N*e.D)
	return e, dev.Sync()
}

func f32(v []float64) []float32 {
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(x)
	}
	return out
}

// Upload copies parameters and AdamW moments (nil maps: zero) to the device.
func (e *Engine) Upload(student, teach *model.Params, m, v map[string]any) error {
	for _, p := range []*model.Params{student, teach} {
		for _, n := range p.Names() {
			e.dev.Upload(e.w[n], p.Float32s(n))
		}
	}
	for _, n := range e.Names {
		for _, mv := range []struct {
			host map[string]any
			dev  Buf
		}{{m, e.m[n]}, {v, e.v[n]}} {
			if x, ok := mv.host[n].([]float32); ok {
				e.dev.Upload(mv.dev, x)
			} else {
				e.dev.Fill(mv.dev, 0)
			}
		}
	}
	return e.dev.Sync()
}

// Download copies parameters and moments back (for checkpoints); moments
// are written into m and v, allocated when missing.
func (e *Engine) Download(student, teach *model.Params, m, v map[string]any) error {
	for _, p := range []*model.Params{student, teach} {
		for _, n := range p.Names() {
			e.dev.Download(p.Float32s(n), e.w[n])
		}
	}
	for _, n := range e.Names {
		for _, mv := range []struct {
			host map[string]any
			dev  Buf
		}{{m, e.m[n]}, {v, e.v[n]}} {
			x, ok := mv.host[n].([]float32)
			if !ok {
				x = make([]float32, e.sizes[n])
				mv.host[n] = x
			}
			e.dev.Download(x, mv.dev)
		}
	}
	return e.dev.Sync()
}

// Result is what one Forward returns to the host.
type Result struct {
	Loss, GradNorm float64
	Pred, Targets  []float32 // (M, D)
}

// Forward runs the teacher on xt (unmasked), builds the targets, then the
// student forward and backward on x with mask (B*T); gradients stay on the
// device until Update (or Grads).
func (e *Engine) Forward(x, xt []float32, mask []bool) (*Result, error) {
	if len(mask) != e.N {
		return nil, fmt.Errorf("gpu: mask has %d entries, want %d", len(mask), e.N)
	}
	mf := make([]float32, e.N)
	idx := make([]float32, 0, e.M)
	for r, on := range mask {
		if on {
			if !e.cfg.KeepInput {
				mf[r] = 1
			}
			idx = append(idx, float32(r))
		}
	}
	if len(idx) != e.M {
		return nil, fmt.Errorf("gpu: mask has %d masked positions, want %d", len(idx), e.M)
	}
	if len(x) != e.in.x.N || len(xt) != e.in.xt.N {
		return nil, fmt.Errorf("gpu: inputs have %d and %d values, want %d", len(x), len(xt), e.in.x.N)
	}
	d := e.dev
	d.Upload(e.in.x, x)
	d.Upload(e.in.xt, xt)
	d.Upload(e.in.mask, mf)
	d.Upload(e.in.idx, idx)
	e.targets()
	e.student()
	loss, err := d.RegLoss(e.dpred, e.pred, e.tgt, float32(e.cfg.Beta), float32(e.cfg.Coef))
	if err != nil {
		return nil, err
	}
	e.studentBwd()
	ss, err := d.SumSq(e.flatG)
	if err != nil {
		return nil, err
	}
	r := &Result{Loss: loss, GradNorm: math.Sqrt(ss), Pred: make([]float32, e.M*e.D), Targets: make([]float32, e.M*e.D)}
	d.Download(r.Pred, e.pred)
	d.Download(r.Targets, e.tgt)
	return r, d.Sync()
}

// Grads downloads the raw gradients of the last Forward, in Names order.
func (e *Engine) Grads() ([][]float32, error) {
	out := make([][]float32, len(e.Names))
	for i, n := range e.Names {
		out[i] = make([]float32, e.sizes[n])
		e.dev.Download(out[i], e.g[n])
	}
	return out, e.dev.Sync()
}

// Optim is one AdamW step's settings (train.AdamW): t is the step number
// after this update (1-based), coef the clipping factor.
type Optim struct {
	B1, B2, Eps, WD, LR, Coef float64
	T                         int64
	Decay                     func(name string) bool
}

// Update applies AdamW to the student and head, then moves the teacher
// towards the updated student with decay ema.
func (e *Engine) Update(o Optim, ema float64) error {
	bc1 := 1 - math.Pow(o.B1, float64(o.T))
	bc2 := math.Sqrt(1 - math.Pow(o.B2, float64(o.T)))
	c := AdamW{B1: float32(o.B1), B2: float32(o.B2), Eps: float32(o.Eps), Step: float32(o.LR / bc1),
		Coef: float32(o.Coef), BC2: float32(bc2)}
	for _, n := range e.Names {
		c.Shrink = 1
		if o.Decay(n) {
			c.Shrink = float32(1 - o.LR*o.WD)
		}
		e.dev.AdamW(e.w[n], e.g[n], e.m[n], e.v[n], c)
	}
	for _, p := range e.pairs {
		e.dev.EMA(e.w[p[0]], e.w[p[1]], float32(ema), float32(1-ema))
	}
	return e.dev.Sync()
}

// Close frees the device.
func (e *Engine) Close() { e.dev.Close() }
