package train

import (
	"fmt"
	"runtime"
	"sync"

	"github.com/d2v/d2v/internal/par"
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
	sp := &batchSplit{d: d, lo: make([]int, n+1), w: make([]float64, n)}
	sp.perX = 1
	for _, v := range d.Mod.InputShape(1) {
		sp.perX *= v
	}
	for k := 0; k <= n; k++ {
		sp.lo[k] = k * B / n
	}
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

func (sp *batchSplit) close() {
	for _, p := range sp.parts {
		p.Close()
	}
}

// samples returns part k's rows of v (per values per sample).
func (sp *batchSplit) samples(v any, k, per int) any {
	lo, hi := sp.lo[k]*per, sp.lo[k+1]*per
	switch x := v.(type) {
	case []float32:
		return x[lo:hi]
	case []float64:
		return x[lo:hi]
	}
	return v
}

// checkLen refuses an input of the wrong size before it is cut into parts.
func (sp *batchSplit) checkLen(what string, v any, per int) error {
	if n := valuesLen(v); n != sp.d.Batch*per {
		return fmt.Errorf("%s has %d values, want %d", what, n, sp.d.Batch*per)
	}
	return nil
}

// run calls f for every part at once, each part's ops on its share of the
// cores; with fewer cores than parts, in turn.
func (sp *batchSplit) run(f func(k int, p *D2V) error) error {
	defer par.Share(len(sp.parts))()
	errs := make([]error, len(sp.parts))
	if runtime.GOMAXPROCS(0) < len(sp.parts) { // fewer cores than parts: in turn, caches warm
		for k, p := range sp.parts {
			errs[k] = f(k, p)
		}
		return sp.firstErr(errs)
	}
	var wg sync.WaitGroup
	for k, p := range sp.parts[1:] {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[k+1] = f(k+1, p)
		}()
	}
	errs[0] = f(0, sp.parts[0])
	wg.Wait()
	return sp.firstErr(errs)
}

func (sp *batchSplit) firstErr(errs []error) error {
	for k, err := range errs {
		if err != nil {
			return fmt.Errorf("batch part %d of %d: %w", k+1, len(sp.parts), err)
		}
	}
	return nil
}

func (sp *batchSplit) forwardPair(student, teacherIn any, mask []bool) (*Output, error) {
	T := sp.d.Mod.NumTokens()
	if len(mask) != sp.d.Batch*T {
		return nil, fmt.Errorf("mask has %d entries, want %d", len(mask), sp.d.Batch*T)
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
	if len(mask) != sp.d.Batch*T {
		return nil, fmt.Errorf("mask has %d entries, want %d", len(mask), sp.d.Batch*T)
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
	T, rowVals := sp.d.Mod.NumTokens(), sp.d.NMask*sp.d.Spec.Dim
	if len(mask) != sp.d.Batch*T {
		return nil, fmt.Errorf("mask has %d entries, want %d", len(mask), sp.d.Batch*T)
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
	return concat(ys, sp.d.Batch*rowVals), nil
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
	n := sp.d.Batch * sp.d.NMask * sp.d.Spec.Dim
	o.Pred = concatInto(o.Pred, outs, func(po *Output) any { return po.Pred }, n)
	o.Targets = concatInto(o.Targets, outs, func(po *Output) any { return po.Targets }, n)
	if o.Grads == nil {
		o.Grads = make([]any, len(sp.d.Names))
		for i, g := range outs[0].Grads {
			switch g.(type) {
			case []float32:
				o.Grads[i] = make([]float32, valuesLen(g))
			case []float64:
				o.Grads[i] = make([]float64, valuesLen(g))
			}
		}
	}
	par.ForBlocks(sp.sizes, 1<<14, func(_, i, lo, hi int) {
		switch dst := o.Grads[i].(type) {
		case []float32:
			weightedSum(dst[lo:hi], outs, sp.w, i, lo)
		case []float64:
			weightedSum(dst[lo:hi], outs, sp.w, i, lo)
		}
	})
	out := *o
	return &out
}

// weightedSum sets dst to sum_k w[k] * outs[k].Grads[p][lo:lo+len(dst)],
// in part order, each product rounded (vmath.AXPBY for float32).
func weightedSum[F float32 | float64](dst []F, outs []*Output, w []float64, p, lo int) {
	hi := lo + len(dst)
	g := func(k int) []F { return outs[k].Grads[p].([]F)[lo:hi] }
	if d32, ok := any(dst).([]float32); ok {
		g32 := func(k int) []float32 { return any(g(k)).([]float32) }
		if len(outs) == 1 {
			vmath.AXPBY(d32, g32(0), g32(0), float32(w[0]), 0)
			return
		}
		vmath.AXPBY(d32, g32(0), g32(1), float32(w[0]), float32(w[1]))
		for k := 2; k < len(outs); k++ {
			vmath.AXPBY(d32, d32, g32(k), 1, float32(w[k]))
		}
		return
	}
	for j, v := range g(0) {
		dst[j] = F(w[0]) * v
	}
	for k := 1; k < len(outs); k++ {
		for j, v := range g(k) {
			dst[j] += F(w[k]) * v
		}
	}
}

// concatInto copies the parts' (rows, D) values, in order, into buf (made
// on first use with n values).
func concatInto(buf any, outs []*Output, get func(*Output) any, n int) any {
	vs := make([]any, len(outs))
	for k, po := range outs {
		vs[k] = get(po)
	}
	if buf == nil {
		return concat(vs, n)
	}
	off := 0
	for _, v := range vs {
		switch x := v.(type) {
		case []float32:
			off += copy(buf.([]float32)[off:], x)
		case []float64:
			off += copy(buf.([]float64)[off:], x)
		}
	}
	return buf
}

// concat joins the parts' values (n in all) into a new slice.
func concat(vs []any, n int) any {
	switch vs[0].(type) {
	case []float32:
		out := make([]float32, 0, n)
		for _, v := range vs {
			out = append(out, v.([]float32)...)
		}
		return out
	default:
		out := make([]float64, 0, n)
		for _, v := range vs {
			out = append(out, v.([]float64)...)
		}
		return out
	}
}
