package step

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/d2v/d2v/internal/floats"
	"github.com/d2v/d2v/internal/graphrun"
)

// partedBatch runs a batch as Parts groups of whole samples at once (run.batch_split).
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
type partedBatch struct {
	d     *D2V
	parts []*D2V
	lo    []int     // first sample of each part; lo[len(parts)] = Batch
	w     []float64 // each part's share of the masked rows
	perX  int       // input values per sample
	out   Output    // the parent's output buffers
	sizes []int     // gradient lengths, per Names entry
}

func newPartedBatch(d *D2V, n int) (*partedBatch, error) {
	B := d.Batch
	sp := &partedBatch{d: d, lo: graphrun.PartBounds(B, n), w: make([]float64, n), perX: graphrun.PerSample(d.Mod)}
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
	if d.parted == nil {
		return ""
	}
	sizes := make([]string, len(d.parted.parts))
	for k, p := range d.parted.parts {
		sizes[k] = strconv.Itoa(p.Batch)
	}
	if slices.Min(sizes) == slices.Max(sizes) {
		return fmt.Sprintf(" (as %d parts of %s at once)", len(sizes), sizes[0])
	}
	return fmt.Sprintf(" (as %d parts of %s at once)", len(sizes), strings.Join(sizes, "/"))
}

func (sp *partedBatch) close() {
	for _, p := range sp.parts {
		p.Close()
	}
}

// samples returns part k's rows of v (per values per sample).
func (sp *partedBatch) samples(v any, k, per int) any {
	return graphrun.PartSamples(v, sp.lo[k], sp.lo[k+1], per)
}

// checkLen refuses an input of the wrong size before it is cut into parts.
func (sp *partedBatch) checkLen(what string, v any, per int) error {
	if n := floats.Len(v); n != sp.d.Batch*per {
		return fmt.Errorf("%s has %d values, want %d", what, n, sp.d.Batch*per)
	}
	return nil
}

// checkMask refuses a mask (B*T) of the wrong size.
func (sp *partedBatch) checkMask(mask []bool) error {
	if n := sp.d.Batch * sp.d.Mod.NumTokens(); len(mask) != n {
		return fmt.Errorf("mask has %d entries, want %d", len(mask), n)
	}
	return nil
}

// run calls f for every part at once, each part's ops on its share of the
// cores; with fewer cores than parts, in turn.
func (sp *partedBatch) run(f func(k int, p *D2V) error) error {
	return graphrun.RunParts(len(sp.parts), func(k int) error { return f(k, sp.parts[k]) })
}

func (sp *partedBatch) forwardPair(student, teacherIn any, mask []bool) (*Output, error) {
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

func (sp *partedBatch) studentPass(x any, mask []bool, targets any) (*Output, error) {
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

func (sp *partedBatch) targets(x any, mask []bool) (any, error) {
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
	return graphrun.Concat(nil, ys), nil
}

// combine makes the batch's output from the parts': the weighted loss and
// gradients, and the predictions and targets in sample order. The
// returned buffers are reused by the next pass.
func (sp *partedBatch) combine(outs []*Output) *Output {
	o := &sp.out
	o.Loss = 0
	for k, po := range outs {
		o.Loss += sp.w[k] * po.Loss
	}
	preds, tgts := make([]any, len(outs)), make([]any, len(outs))
	for k, po := range outs {
		preds[k], tgts[k] = po.Pred, po.Targets
	}
	o.Pred, o.Targets = graphrun.Concat(o.Pred, preds), graphrun.Concat(o.Targets, tgts)
	if o.Grads == nil {
		o.Grads = graphrun.ZerosLikeAll(outs[0].Grads)
	}
	grads := make([][]any, len(outs))
	for k, po := range outs {
		grads[k] = po.Grads
	}
	graphrun.SumGrads(o.Grads, grads, sp.w, sp.sizes)
	out := *o
	return &out
}
