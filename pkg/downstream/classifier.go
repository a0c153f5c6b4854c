package downstream

import (
	"fmt"
	"slices"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/d2v/d2v/internal/floats"
	"github.com/d2v/d2v/internal/graphrun"
	"github.com/d2v/d2v/pkg/model"
	"github.com/d2v/d2v/pkg/ops"
	"github.com/d2v/d2v/pkg/step"
)

// Classifier is the student encoder used downstream: unmasked input ->
// mean-pooled features (B, D), optionally followed by the classification head
// cls.norm (LayerNorm) + cls.fc (Linear) and a softmax cross-entropy loss.
type Classifier struct {
	Setup   step.Setup
	Params  *model.Params // student.* (+ cls.* when Classes > 0)
	Names   []string      // trainable names, in order
	Classes int
	Layers  int  // feature layers concatenated (see NewFeatures); 1 for a classifier
	tokens  bool // NewFeatures: Run returns per-token features (B*T, Layers*D), unpooled
	batch   int
	vm      G.VM
	x, w, y *tensor.Dense
	feats   *G.Node // read in place after a run, like the gradients
	logits  *G.Node
	loss    G.Value
	grads   G.Nodes
	cache   struct {
		feats, logits graphrun.Cache
		grads         []graphrun.Cache
	}
	parted *classifierParts // Setup.Parts > 1: the parts, which own the graphs
}

// ClassifierParams declares the student encoder's parameters and, for
// classes > 0, the classification head (LN gain 1, zero weights).
func ClassifierParams(s step.Setup, classes int) *model.Params {
	p := model.NewParams(s.Dtype)
	model.Embedding{Mod: s.Mod, Spec: s.Spec}.Declare(p, "student")
	model.Encoder{Spec: s.Spec}.Declare(p, "student")
	if classes > 0 {
		p.Add("cls.norm.g", s.Spec.Dim)
		p.Add("cls.norm.b", s.Spec.Dim)
		p.Add("cls.fc.w", s.Spec.Dim, classes)
		p.Add("cls.fc.b", classes)
		p.Const("cls.norm.g", 1)
	}
	return p
}

// NewClassifier builds a graph for `batch` inputs over params (from
// ClassifierParams); train adds the loss and gradients. Graphs built over the
// same params share their tensors. With s.Parts > 1 the batch runs as that
// many parts at once (run.batch_split), as in pretraining.
func NewClassifier(s step.Setup, params *model.Params, batch, classes int, training bool) (*Classifier, error) {
	return newClassifier(s, params, batch, classes, training, 0)
}

// NewFeatures builds a feature extractor (no head) whose Run returns per
// token the outputs of the last `layers` layers, concatenated: (B*T,
// layers*D), the encoder output (after the final LN when pre-LN) last, the
// residual stream after each earlier block before it, earliest first.
// Features pools them (Run's pooling weights are unused).
func NewFeatures(s step.Setup, params *model.Params, batch, layers int) (*Classifier, error) {
	if layers < 1 || layers > s.Spec.Depth {
		return nil, fmt.Errorf("probe layers: must be in [1, model.depth=%d], got %d", s.Spec.Depth, layers)
	}
	return newClassifier(s, params, batch, 0, false, layers)
}

// FeatDim is the width of the features Run returns per example (per token
// for NewFeatures).
func (e *Classifier) FeatDim() int { return e.Layers * e.Setup.Spec.Dim }

func newClassifier(s step.Setup, params *model.Params, batch, classes int, training bool, layers int) (*Classifier, error) {
	if n := min(s.Parts, batch); n > 1 {
		return newClassifierParts(s, params, batch, classes, training, n, layers)
	}
	e := &Classifier{Setup: s, Params: params, Classes: classes, Layers: max(layers, 1), tokens: layers > 0, batch: batch}
	emb, enc := model.Embedding{Mod: s.Mod, Spec: s.Spec}, model.Encoder{Spec: s.Spec}
	e.Names = e.Params.Names()
	g := model.NewGraph(s.Dtype, e.Params)
	x, xt := g.Input("in.x", s.Mod.InputShape(batch)...)
	mask, _ := g.Input("in.mask", batch*s.Mod.NumTokens()) // all zero: nothing masked downstream
	h, err := emb.Build(g, "student", x, mask)
	if err != nil {
		return nil, err
	}
	L, err := enc.Build(g, "student", h, batch)
	if err != nil {
		return nil, err
	}
	w, wt := g.Input("in.pool_w", batch*s.Mod.NumTokens())
	pooled, err := ops.WeightedPool(L.Out, w, batch) // (B*T, D) -> (B, D): mean over real tokens
	if err != nil {
		return nil, err
	}
	e.x, e.w = xt, wt
	e.feats = pooled
	if layers > 0 { // NewFeatures
		e.tokens = true
		if e.feats = L.Out; layers > 1 {
			all := append(slices.Clone(L.Blocks[s.Spec.Depth-layers:s.Spec.Depth-1]), L.Out)
			if e.feats, err = G.Concat(1, all...); err != nil { // layers x (B*T, D) -> (B*T, layers*D)
				return nil, err
			}
		}
	}
	if classes > 0 {
		z := G.Must(ops.LayerNorm(pooled, g.Param("cls.norm.g"), g.Param("cls.norm.b"), s.Spec.LNEps))
		logits := G.Must(ops.Linear(z, g.Param("cls.fc.w"), g.Param("cls.fc.b")))
		e.logits = logits
		if training {
			y, yt := g.Input("in.y", batch, classes)
			cost, err := ops.SoftmaxCE(logits, y)
			if err != nil {
				return nil, err
			}
			grads, err := G.Grad(cost, g.Nodes(e.Names)...)
			if err != nil {
				return nil, err
			}
			e.y = yt
			G.Read(cost, &e.loss)
			e.grads, e.cache.grads = grads, make([]graphrun.Cache, len(grads))
		}
	}
	e.vm = G.NewTapeMachine(g.G)
	return e, nil
}

// Close releases the graph's machine.
func (e *Classifier) Close() {
	if e.parted != nil {
		for _, p := range e.parted.parts {
			p.Close()
		}
		return
	}
	e.vm.Close()
}

// Run computes features (B, D) pooled with weights w (B*T) and, with a head,
// logits (B, C); with targets (B, C) on a training graph also the loss and
// gradients. The slices are valid until the next Run.
func (e *Classifier) Run(x any, w []float32, targets []float64) (feats, logits []float32, loss float64, grads []any, err error) {
	if e.parted != nil {
		return e.parted.run(x, w, targets)
	}
	if err = graphrun.Fill(e.x, x); err != nil {
		return
	}
	if err = graphrun.Fill(e.w, w); err != nil {
		return
	}
	if e.y != nil {
		if err = graphrun.Fill(e.y, targets); err != nil {
			return
		}
	}
	defer e.vm.Reset()
	if err = e.vm.RunAll(); err != nil {
		return
	}
	feats = e.cache.feats.Of(e.feats.Value()).([]float32)
	if e.logits != nil {
		logits = e.cache.logits.Of(e.logits.Value()).([]float32)
	}
	if e.loss != nil {
		loss = graphrun.Scalar(e.loss)
		grads = make([]any, len(e.grads))
		for i, g := range e.grads {
			grads[i] = e.cache.grads[i].Of(g.Value())
		}
	}
	return
}

// classifierParts runs a Classifier's batch as parts at once, each part a graph
// over the same parameters (see batchSplit): the features and logits are
// the parts' in sample order, the loss (a mean over samples) and its
// gradients the parts' weighted by their share of the samples.
type classifierParts struct {
	parts         []*Classifier
	lo            []int
	w             []float64
	perX, T       int
	feats, logits []float32
	grads         []any
	sizes         []int
}

func newClassifierParts(s step.Setup, params *model.Params, batch, classes int, training bool, n, layers int) (*Classifier, error) {
	e := &Classifier{Setup: s, Params: params, Names: params.Names(), Classes: classes, Layers: max(layers, 1), tokens: layers > 0, batch: batch}
	sp := &classifierParts{lo: graphrun.PartBounds(batch, n), perX: graphrun.PerSample(s.Mod), T: s.Mod.NumTokens()}
	ps := s
	ps.Parts = 1
	for k := range n {
		p, err := newClassifier(ps, params, sp.lo[k+1]-sp.lo[k], classes, training, layers)
		if err != nil {
			for _, q := range sp.parts {
				q.Close()
			}
			return nil, fmt.Errorf("batch part %d of %d: %w", k+1, n, err)
		}
		sp.parts = append(sp.parts, p)
		sp.w = append(sp.w, float64(sp.lo[k+1]-sp.lo[k])/float64(batch))
	}
	for _, name := range e.Names {
		sp.sizes = append(sp.sizes, params.Get(name).Shape().TotalSize())
	}
	e.parted = sp
	return e, nil
}

func (sp *classifierParts) run(x any, w []float32, targets []float64) (feats, logits []float32, loss float64, grads []any, err error) {
	B, C := sp.lo[len(sp.parts)], sp.parts[0].Classes
	if n := floats.Len(x); n != B*sp.perX {
		return nil, nil, 0, nil, fmt.Errorf("input has %d values, want %d", n, B*sp.perX)
	}
	if len(w) != B*sp.T {
		return nil, nil, 0, nil, fmt.Errorf("pooling weights have %d values, want %d", len(w), B*sp.T)
	}
	training := sp.parts[0].y != nil
	if training && len(targets) != B*C {
		return nil, nil, 0, nil, fmt.Errorf("targets have %d values, want %d", len(targets), B*C)
	}
	type result struct {
		feats, logits []float32
		loss          float64
		grads         []any
	}
	res := make([]result, len(sp.parts))
	err = graphrun.RunParts(len(sp.parts), func(k int) error {
		lo, hi := sp.lo[k], sp.lo[k+1]
		var t []float64
		if training {
			t = targets[lo*C : hi*C]
		}
		r := &res[k]
		var err error
		r.feats, r.logits, r.loss, r.grads, err = sp.parts[k].Run(graphrun.PartSamples(x, lo, hi, sp.perX), w[lo*sp.T:hi*sp.T], t)
		return err
	})
	if err != nil {
		return nil, nil, 0, nil, err
	}
	sp.feats = sp.feats[:0]
	sp.logits = sp.logits[:0]
	gs := make([][]any, len(res))
	for k, r := range res {
		sp.feats = append(sp.feats, r.feats...)
		sp.logits = append(sp.logits, r.logits...)
		loss += sp.w[k] * r.loss
		gs[k] = r.grads
	}
	feats = sp.feats
	if C > 0 {
		logits = sp.logits
	}
	if training {
		if sp.grads == nil {
			sp.grads = graphrun.ZerosLikeAll(gs[0])
		}
		graphrun.SumGrads(sp.grads, gs, sp.w, sp.sizes)
		grads = sp.grads
	}
	return feats, logits, loss, grads, nil
}
