package train

import (
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/d2v/d2v/internal/floats"
	"github.com/d2v/d2v/internal/par"
	"github.com/d2v/d2v/pkg/model"
	"github.com/d2v/d2v/pkg/vmath"
)

// batchSplit runs a batch as Parts groups of whole samples at once (run.batch_split).
//
// Every quantity of a data2vec step is per sample: the teacher's target
// norms (layer: per token; instance: per sample and channel), the masked
// rows, the loss's 1/M. So the batch's loss is the masked-row-weighted
// mean of the parts' losses and its gradient the same mean of theirs;
// only the order of float sums over samples changes. Each part owns a
// student and a teacher graph bound to the parent's parameter tensors
// (read-only during a pass; AdamW and the EMA update them in place
// between passes) and runs with its share of the cores (par.Share), so the
// passes have no hand-offs between cores until the gradients are summed.
// The result depends on Parts, not on the number of cores.
type batchSplit struct {
	d     *D2V
	parts []*D2V
	lo    []int     // first sample of each part; lo[len(parts)] = Batch
	w     []float64 // each part's share of the masked rows
	perX  int       // input values per sample
	out   Output    // the parent's output buffers
	sizes []int     // gradient lengths, per Names entry
}

func newSplit(d *D2V, n int) (*batchSplit, error) {
	B := d.Batch
	sp := &batchSplit{d: d, lo: partBounds(B, n), w: make([]float64, n), perX: perSample(d.Mod)}
	for k := 0; k < n; k++ {
		s := d.Setup
		s.Batch, s.Parts = sp.lo[k+1]-sp.lo[k], 1
		p := &D2V{Setup: s, Student: d.Student, Teacher: d.Teacher, Names: d.Names, pairs: d.pairs}
		if err := p.build(); err != nil {
			sp.close()
			return nil, fmt.Errorf("batch part %d of %d: %w", k+1, n, err)
		}
		sp.parts = append(sp.parts, p)
		sp.w[k] = float64(s.Batch) / float64(B)
	}
	for _, name := range d.Names {
		sp.sizes = append(sp.sizes, d.Student.Get(name).Shape().TotalSize())
	}
	return sp, nil
}

// PartsNote describes how a batch runs: "" as one, else " (as 2 parts of
// 32 at once)" or with unequal parts their sizes.
func (d *D2V) PartsNote() string {
	if d.split == nil {
		return ""
	}
	sizes := make([]string, len(d.split.parts))
	for k, p := range d.split.parts {
		sizes[k] = strconv.Itoa(p.Batch)
	}
	if slices.Min(sizes) == slices.Max(sizes) {
		return fmt.Sprintf(" (as %d parts of %s at once)", len(sizes), sizes[0])
	}
	return fmt.Sprintf(" (as %d parts of %s at once)", len(sizes), strings.Join(sizes, "/"))
}

func (sp *batchSplit) close() {
	for _, p := range sp.parts {
		p.Close()
	}
}

// samples returns part k's rows of v (per values per sample).
func (sp *batchSplit) samples(v any, k, per int) any {
	return partSamples(v, sp.lo[k], sp.lo[k+1], per)
}

// checkLen refuses an input of the wrong size before it is cut into parts.
func (sp *batchSplit) checkLen(what string, v any, per int) error {
	if n := floats.Len(v); n != sp.d.Batch*per {
		return fmt.Errorf("%s has %d values, want %d", what, n, sp.d.Batch*per)
	}
	return nil
}

// checkMask refuses a mask (B*T) of the wrong size.
func (sp *batchSplit) checkMask(mask []bool) error {
	if n := sp.d.Batch * sp.d.Mod.NumTokens(); len(mask) != n {
		return fmt.Errorf("mask has %d entries, want %d", len(mask), n)
	}
	return nil
}

// run calls f for every part at once, each part's ops on its share of the
// cores; with fewer cores than parts, in turn.
func (sp *batchSplit) run(f func(k int, p *D2V) error) error {
	return runParts(len(sp.parts), func(k int) error { return f(k, sp.parts[k]) })
}

// runParts runs f(0..n-1) at once with the cores shared between them
// (par.Share), or in turn with fewer cores than parts (caches stay warm),
// and returns the first part's error.
func runParts(n int, f func(k int) error) error {
	defer par.Share(n)()
	errs := make([]error, n)
	if runtime.GOMAXPROCS(0) < n {
		for k := range n {
			errs[k] = f(k)
		}
	} else {
		var wg sync.WaitGroup
		for k := 1; k < n; k++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[k] = f(k)
			}()
		}
		errs[0] = f(0)
		wg.Wait()
	}
	for k, err := range errs {
		if err != nil {
			return fmt.Errorf("batch part %d of %d: %w", k+1, n, err)
		}
	}
	return nil
}

// partBounds cuts b samples into n contiguous parts: part k is [lo[k], lo[k+1]).
func partBounds(b, n int) []int {
	lo := make([]int, n+1)
	for k := range lo {
		lo[k] = k * b / n
	}
	return lo
}

func (sp *batchSplit) forwardPair(student, teacherIn any, mask []bool) (*Output, error) {
	T := sp.d.Mod.NumTokens()
	if err := sp.checkMask(mask); err != nil {
		return nil, err
	}
	if err := sp.checkLen("student input", student, sp.perX); err != nil {
		return nil, err
	}
	if err := sp.checkLen("teacher input", teacherIn, sp.perX); err != nil {
		return nil, err
	}
	outs := make([]*Output, len(sp.parts))
	err := sp.run(func(k int, p *D2V) (err error) {
		outs[k], err = p.ForwardPair(sp.samples(student, k, sp.perX), sp.samples(teacherIn, k, sp.perX), mask[sp.lo[k]*T:sp.lo[k+1]*T])
		return err
	})
	if err != nil {
		return nil, err
	}
	return sp.combine(outs), nil
}

func (sp *batchSplit) studentPass(x any, mask []bool, targets any) (*Output, error) {
	T, rowVals := sp.d.Mod.NumTokens(), sp.d.NMask*sp.d.Spec.Dim
	if err := sp.checkMask(mask); err != nil {
		return nil, err
	}
	if err := sp.checkLen("student input", x, sp.perX); err != nil {
		return nil, err
	}
	if err := sp.checkLen("targets", targets, rowVals); err != nil {
		return nil, err
	}
	outs := make([]*Output, len(sp.parts))
	err := sp.run(func(k int, p *D2V) (err error) {
		outs[k], err = p.StudentPass(sp.samples(x, k, sp.perX), mask[sp.lo[k]*T:sp.lo[k+1]*T], sp.samples(targets, k, rowVals))
		return err
	})
	if err != nil {
		return nil, err
	}
	return sp.combine(outs), nil
}

func (sp *batchSplit) targets(x any, mask []bool) (any, error) {
	T := sp.d.Mod.NumTokens()
	if err := sp.checkMask(mask); err != nil {
		return nil, err
	}
	if err := sp.checkLen("teacher input", x, sp.perX); err != nil {
		return nil, err
	}
	ys := make([]any, len(sp.parts))
	err := sp.run(func(k int, p *D2V) (err error) {
		ys[k], err = p.Targets(sp.samples(x, k, sp.perX), mask[sp.lo[k]*T:sp.lo[k+1]*T])
		return err
	})
	if err != nil {
		return nil, err
	}
	return concat(nil, ys), nil
}

// combine makes the batch's output from the parts': the weighted loss and
// gradients, and the predictions and targets in sample order. The
// returned buffers are reused by the next pass.
func (sp *batchSplit) combine(outs []*Output) *Output {
	o := &sp.out
	o.Loss = 0
	for k, po := range outs {
		o.Loss += sp.w[k] * po.Loss
	}
	preds, tgts := make([]any, len(outs)), make([]any, len(outs))
	for k, po := range outs {
		preds[k], tgts[k] = po.Pred, po.Targets
	}
	o.Pred, o.Targets = concat(o.Pred, preds), concat(o.Targets, tgts)
	if o.Grads == nil {
		o.Grads = zerosLikeAll(outs[0].Grads)
	}
	grads := make([][]any, len(outs))
	for k, po := range outs {
		grads[k] = po.Grads
	}
	sumGrads(o.Grads, grads, sp.w, sp.sizes)
	out := *o
	return &out
}

// sumGrads sets dst[i] = sum_k w[k] * grads[k][i] for every gradient i
// (lengths sizes), in fixed blocks over the cores.
func sumGrads(dst []any, grads [][]any, w []float64, sizes []int) {
	par.ForBlocks(sizes, 1<<14, func(_, i, lo, hi int) {
		switch d := dst[i].(type) {
		case []float32:
			weightedSum(d[lo:hi], grads, w, i, lo)
		case []float64:
			weightedSum(d[lo:hi], grads, w, i, lo)
		}
	})
}

// weightedSum sets dst to sum_k w[k] * grads[k][p][lo:lo+len(dst)], in
// part order, each product rounded (vmath.AXPBY for float32).
func weightedSum[F float32 | float64](dst []F, grads [][]any, w []float64, p, lo int) {
	hi := lo + len(dst)
	g := func(k int) []F { return grads[k][p].([]F)[lo:hi] }
	if d32, ok := any(dst).([]float32); ok {
		g32 := func(k int) []float32 { return any(g(k)).([]float32) }
		if len(grads) == 1 {
			vmath.AXPBY(d32, g32(0), g32(0), float32(w[0]), 0)
			return
		}
		vmath.AXPBY(d32, g32(0), g32(1), float32(w[0]), float32(w[1]))
		for k := 2; k < len(grads); k++ {
			vmath.AXPBY(d32, d32, g32(k), 1, float32(w[k]))
		}
		return
	}
	for j, v := range g(0) {
		dst[j] = F(w[0]) * v
	}
	for k := 1; k < len(grads); k++ {
		for j, v := range g(k) {
			dst[j] += F(w[k]) * v
		}
	}
}

// zerosLikeAll makes a zero slice shaped like each of gs.
func zerosLikeAll(gs []any) []any {
	out := make([]any, len(gs))
	for i, g := range gs {
		out[i] = zerosLike(g)
	}
	return out
}

// perSample is the number of input values per sample of m.
func perSample(m model.Modality) int {
	n := 1
	for _, v := range m.InputShape(1) {
		n *= v
	}
	return n
}

// concat appends the parts' values, in order, to buf[:0] (buf may be
// nil: a new slice), so a buffer kept from the last pass is reused.
func concat(buf any, vs []any) any {
	switch vs[0].(type) {
	case []float32:
		out, _ := buf.([]float32)
		return concatOf(out[:0], vs)
	default:
		out, _ := buf.([]float64)
		return concatOf(out[:0], vs)
	}
}

func concatOf[F float32 | float64](out []F, vs []any) []F {
	for _, v := range vs {
		out = append(out, v.([]F)...)
	}
	return out
}
